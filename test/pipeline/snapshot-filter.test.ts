import { describe, expect, it } from 'vitest';
import { parseJson } from '../../functions/core/json/parse.ts';
import type { JsonObject } from '../../functions/core/json/value.ts';
import { snapshotOptionsSchema } from '../../functions/pipeline/config.ts';
import { snapshotTransform } from '../../functions/pipeline/snapshot-filter.ts';

const task = (annotations: string, extra = '') =>
  parseJson(
    `{"id": 1, "data": {"text": "x"}, "is_labeled": true, "overlap": 1, "updated_by": 3, "comment_authors": [3], "drafts": [{"id": 4, "user": "a@b.c", "result": []}], "predictions": [{"id": 5, "result": []}], "annotations": [${annotations}]${extra}}`,
  ) as JsonObject;
const by = '{"id": 9, "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}';
const usual = `{"id": 10, "completed_by": ${by}, "created_username": "Ann Lee ann@example.com, 9", "created_ago": "1 minute", "was_cancelled": false, "ground_truth": false, "history": [], "result": []}`;
const skipped = `{"id": 11, "completed_by": ${by}, "was_cancelled": true, "ground_truth": false, "result": []}`;
const truth = `{"id": 12, "completed_by": 9, "was_cancelled": false, "ground_truth": true, "result": []}`;

const run = (options: unknown, t: JsonObject) => snapshotTransform(snapshotOptionsSchema.parse(options))(t);
const ids = (t: JsonObject | undefined) => (t?.annotations as JsonObject[] | undefined)?.map((a) => a.id);

describe('snapshot options', () => {
  it('by default keeps every task and annotation, with ids for drafts, predictions and annotators', () => {
    const out = run({}, task([usual, skipped, truth].join(', ')))!;
    expect(ids(out)).toEqual([10, 11, 12]);
    expect(out.drafts).toEqual([4]);
    expect(out.predictions).toEqual([5]);
    expect((out.annotations as JsonObject[]).map((a) => a.completed_by)).toEqual([9, 9, 9]);
    // Storage-only fields are not part of Label Studio's export serializer.
    expect(Object.keys(out)).not.toContain('is_labeled');
    expect(Object.keys((out.annotations as JsonObject[])[0])).not.toContain('created_username');
    expect(Object.keys((out.annotations as JsonObject[])[0])).not.toContain('history');
  });

  it('filters annotations with usual/ground_truth/skipped (usual defaults to true once given)', () => {
    expect(ids(run({ annotation_filter_options: {} }, task([usual, skipped, truth].join(', '))))).toEqual([
      10,
    ]);
    expect(
      ids(
        run(
          { annotation_filter_options: { usual: false, skipped: true } },
          task([usual, skipped, truth].join(', ')),
        ),
      ),
    ).toEqual([11]);
    expect(
      ids(
        run({ annotation_filter_options: { ground_truth: true } }, task([usual, skipped, truth].join(', '))),
      ),
    ).toEqual([10, 12]);
    expect(
      ids(run({ annotation_filter_options: { usual: false } }, task([usual, skipped].join(', ')))),
    ).toEqual([10, 11]);
  });

  it('filters tasks: skipped, finished, annotated, only_with_annotations', () => {
    const withSkip = task([usual, skipped].join(', '));
    const onlySkip = task(skipped, ', "is_labeled2": 1');
    expect(run({ task_filter_options: { skipped: 'exclude' } }, withSkip)).toBeUndefined();
    expect(run({ task_filter_options: { skipped: 'only' } }, withSkip)).toBeDefined();
    expect(run({ task_filter_options: { annotated: 'only' } }, onlySkip)).toBeUndefined();
    expect(run({ task_filter_options: { annotated: 'exclude' } }, onlySkip)).toBeDefined();
    const unlabeled = task(usual).is_labeled === true ? { ...task(usual), is_labeled: false } : task(usual);
    expect(run({ task_filter_options: { finished: 'only' } }, unlabeled as JsonObject)).toBeUndefined();
    expect(
      run(
        { task_filter_options: { only_with_annotations: true }, annotation_filter_options: { usual: true } },
        onlySkip,
      ),
    ).toBeUndefined();
    expect(run({ task_filter_options: { only_with_annotations: true } }, onlySkip)).toBeDefined();
  });

  it('expands what serialization_options ask for (completed_by in export order)', () => {
    const out = run(
      {
        serialization_options: {
          drafts: { only_id: false },
          predictions: {},
          annotations__completed_by: { only_id: false },
          include_annotation_history: true,
        },
      },
      task(usual),
    )!;
    expect((out.drafts as JsonObject[])[0].id).toBe(4);
    expect((out.predictions as JsonObject[])[0].id).toBe(5);
    const a = (out.annotations as JsonObject[])[0];
    expect(Object.keys(a.completed_by as JsonObject)).toEqual(['id', 'email', 'first_name', 'last_name']);
    expect(a.history).toEqual([]);
  });

  it('anonymize removes annotator identities everywhere', () => {
    const out = run(
      {
        anonymize: true,
        serialization_options: { drafts: { only_id: false }, annotations__completed_by: { only_id: false } },
      },
      task(usual),
    )!;
    const text = JSON.stringify(out);
    expect(text).not.toContain('ann@example.com');
    expect(text).not.toContain('Ann');
    expect(text).not.toContain('a@b.c');
    expect(Object.keys(out)).not.toContain('updated_by');
    expect(Object.keys(out)).not.toContain('comment_authors');
    expect(Object.keys((out.annotations as JsonObject[])[0])).not.toContain('completed_by');
  });
});
