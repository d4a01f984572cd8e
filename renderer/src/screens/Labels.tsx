import { Button, Group, Stack, Text } from '@mantine/core';
import JsBarcode from 'jsbarcode';
import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import type { Requisition } from '../../../shared/contract.ts';
import { useCall } from '../hooks.ts';

/** One printable specimen label: CODE128 barcode of the requisition identifier (JsBarcode), plus what it is. */
export function SpecimenLabel({ req, subject, testId = 'specimen-label' }: { req: Requisition; subject: string; testId?: string }) {
  const svg = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (svg.current) JsBarcode(svg.current, req.requisitionIdentifier, { format: 'CODE128', height: 50, width: 1.6, fontSize: 14, margin: 4 });
  }, [req.requisitionIdentifier]);
  return (
    <div className="label" data-testid={testId} data-barcode={req.requisitionIdentifier}>
      <svg ref={svg} role="img" aria-label={`barcode ${req.requisitionIdentifier}`} />
      <Text size="sm" fw={600}>{subject} · {req.panel}</Text>
      <Text size="xs">{req.specimenType} · {new Date(req.drawnDatetime).toLocaleString([], { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })}</Text>
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

export function LabelSheet({ requisitions, subject }: { requisitions: Requisition[]; subject: string }) {
  if (requisitions.length === 0) return null;
  return (
    <Stack>
      <PageSize />
      <Group>
        <Button onClick={() => window.print()} variant="outline">Print {requisitions.length} label(s)</Button>
      </Group>
      <div className="label-sheet">
        {requisitions.map((r) => <SpecimenLabel key={r.id} req={r} subject={subject} />)}
      </div>
      {createPortal(<div className="print-labels">{requisitions.map((r) => <SpecimenLabel key={r.id} req={r} subject={subject} testId="print-label" />)}</div>, document.body)}
    </Stack>
  );
}
