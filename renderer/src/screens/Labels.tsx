import { Button, Group, Stack, Text } from '@mantine/core';
import JsBarcode from 'jsbarcode';
import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import type { Requisition } from '../../../shared/contract.ts';
import { useCall } from '../hooks.ts';
import { useFormat, useT } from '../i18n.tsx';

/** One printable specimen label: CODE128 barcode of the requisition identifier (JsBarcode), plus what it is. */
export function SpecimenLabel({ req, subject, testId = 'specimen-label' }: { req: Requisition; subject: string; testId?: string }) {
  const t = useT();
  const f = useFormat();
  const svg = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (svg.current) JsBarcode(svg.current, req.requisitionIdentifier, { format: 'CODE128', height: 50, width: 1.6, fontSize: 14, margin: 4 });
  }, [req.requisitionIdentifier]);
  return (
    <div className="label" data-testid={testId} data-barcode={req.requisitionIdentifier}>
      <svg ref={svg} role="img" aria-label={t('specimens.barcodeOf', { code: req.requisitionIdentifier })} />
      <Text size="sm" fw={600}>{subject} · {f.value('panel', req.panel)}</Text>
      <Text size="xs">{f.value('specimenType', req.specimenType)} · {f.dateTime(req.drawnDatetime)}</Text>
    </div>
  );
}

/** The label stock's page size (study settings, default 50×25 mm): one label per printed page, top-left. */
function PageSize() {
  const settings = useCall('specimens.settings', {});
  const w = settings.data?.labelWidthMm ?? 50;
  const h = settings.data?.labelHeightMm ?? 25;
  return <style>{`@media print { @page { size: ${w}mm ${h}mm; margin: 0; } .label { width: ${w}mm; height: ${h}mm; } }`}</style>;
}

/**
 * A print job of this sheet: the identifiers to print (one, for "Reprint"), or null (the sheet prints every label
 * of the page, as before). While a job is set, only this sheet's print copy prints (body.printing-job), so a
 * reprint is exactly that one label; it ends when the browser says printing is over.
 */
export type PrintJob = { ids: string[]; n: number } | null;

export function LabelSheet({ requisitions, subject, job, onJob }: { requisitions: Requisition[]; subject: string; job: PrintJob; onJob: (job: PrintJob) => void }) {
  const t = useT();
  useEffect(() => {
    if (!job) return undefined;
    document.body.classList.add('printing-job');
    const done = () => onJob(null);
    window.addEventListener('afterprint', done);
    // Print once the portal holds just the job's labels (after this render is committed).
    const timer = setTimeout(() => window.print(), 0);
    return () => {
      clearTimeout(timer);
      window.removeEventListener('afterprint', done);
      document.body.classList.remove('printing-job');
    };
  }, [job, onJob]);
  if (requisitions.length === 0) return null;
  const printed = job ? requisitions.filter((r) => job.ids.includes(r.requisitionIdentifier)) : requisitions;
  return (
    <Stack>
      <PageSize />
      <Group>
        <Button onClick={() => onJob({ ids: requisitions.map((r) => r.requisitionIdentifier), n: Date.now() })} variant="outline" data-testid="print-all">{t('specimens.printAll', { n: requisitions.length })}</Button>
      </Group>
      <div className="label-sheet">
        {requisitions.map((r) => <SpecimenLabel key={r.id} req={r} subject={subject} />)}
      </div>
      {createPortal(<div className={job ? 'print-labels print-job' : 'print-labels'} data-testid="print-copy">{printed.map((r) => <SpecimenLabel key={r.id} req={r} subject={subject} testId="print-label" />)}</div>, document.body)}
    </Stack>
  );
}
