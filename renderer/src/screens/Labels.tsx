import { Button, Group, Stack, Text } from '@mantine/core';
import JsBarcode from 'jsbarcode';
import { useEffect, useRef } from 'react';
import type { Requisition } from '../../../shared/contract.ts';

/** One printable specimen label: CODE128 barcode of the requisition identifier (JsBarcode), plus what it is. */
export function SpecimenLabel({ req, subject }: { req: Requisition; subject: string }) {
  const svg = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (svg.current) JsBarcode(svg.current, req.requisitionIdentifier, { format: 'CODE128', height: 50, width: 1.6, fontSize: 14, margin: 4 });
  }, [req.requisitionIdentifier]);
  return (
    <div className="label" data-testid="specimen-label" data-barcode={req.requisitionIdentifier}>
      <svg ref={svg} role="img" aria-label={`barcode ${req.requisitionIdentifier}`} />
      <Text size="sm" fw={600}>{subject} · {req.panel}</Text>
      <Text size="xs">{req.specimenType} · {new Date(req.drawnDatetime).toLocaleString()}</Text>
    </div>
  );
}

export function LabelSheet({ requisitions, subject }: { requisitions: Requisition[]; subject: string }) {
  if (requisitions.length === 0) return null;
  return (
    <Stack>
      <Group>
        <Button onClick={() => window.print()} variant="outline">Print {requisitions.length} label(s)</Button>
      </Group>
      <div className="label-sheet">
        {requisitions.map((r) => <SpecimenLabel key={r.id} req={r} subject={subject} />)}
      </div>
    </Stack>
  );
}
