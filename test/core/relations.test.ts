/**
 * Relation results (QA F5): Label Studio's converter drops them from every format built from items
 * (docs/label-studio-behaviour.md, "Everything else (relations, …) is dropped silently"); here each is
 * still one skipped entry (README "Every result of every annotation is accounted for"), worded as
 * what it is — a link between two regions — not as a result missing its from_name.
 */
import { describe, expect, it } from 'vitest';
import { exportWith, fixture } from '../helpers/export.ts';

const DATA = fixture('test_export_yolo/data_keypoints.json');
const CONFIG = fixture('test_export_yolo/label_config_keypoints.xml');

/** The fixture's 5 relations, as from_id → to_id. */
const LINKS = [
  'hplPm0Szvc → qwGtX1L1Nm',
  'hplPm0Szvc → hplPm0Szvc',
  'YuLAREYKpq → hplPm0Szvc',
  'gD9Q-39A_4 → hplPm0Szvc',
  'qwGtX1L1Nm → hplPm0Szvc',
];

describe('relation results', () => {
  for (const format of ['YOLO', 'COCO', 'JSON_MIN'] as const) {
    it(`${format}: each relation is one skipped entry naming its regions and why it is left out`, async () => {
      const { report } = await exportWith(DATA, CONFIG, format);
      const relations = report.skipped.filter((e) => e.type === 'relation');
      expect(relations.map((e) => [e.taskId, e.annotationId, e.format, e.reason])).toEqual(
        LINKS.map((link) => [
          10764,
          11996,
          format,
          `a relation between regions (${link}) is left out: only JSON keeps relations, as Label Studio's converter does`,
        ]),
      );
      expect(report.skipped.some((e) => e.reason.includes('from_name'))).toBe(false);
      // The 4 regions are exported; the 5 relations are the skipped results.
      expect(report.regions.get(format)).toEqual({ exported: 4, skipped: 5 });
    });
  }
});
