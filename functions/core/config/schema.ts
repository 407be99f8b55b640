/**
 * The parsed label config ("schema") as the reference converter sees it (docs/label-studio-behaviour.md#label-config-parsing):
 * control tags in document order, each with its object inputs and labels.
 */

export interface SchemaInput {
  /** Object tag name as written, e.g. `Image`, `Text`, `Audio`. */
  type: string;
  /** The data key, `$` removed (e.g. `image`). */
  value: string;
  /** Only dict schemas carry these (the XML parser never produces them). */
  valueList?: string;
  valueType?: string;
}

export interface ControlTag {
  /** The control's `name` (the results' `from_name`). */
  name: string;
  /** Tag name exactly as written, e.g. `RectangleLabels`, `Choices`. */
  type: string;
  /** `toName` split on `,` (no trimming). */
  toName: string[];
  /** Inputs for each `toName` entry that names a known object tag. */
  inputs: SchemaInput[];
  /** Label keys (alias or value) in first-appearance order. */
  labels: string[];
  /** Label key → all attributes of its `<Label>`/`<Choice>` element. */
  labelsAttrs: Record<string, Record<string, string>>;
  /** `perRegion` conditionals (`whenTagName` …), when present. */
  conditionals?: { type: 'tag' | 'label' | 'choice'; name: string };
  /** Repeater placeholders, e.g. `{"{{idx}}": ".*"}` (dict schemas only). */
  regex?: Record<string, string>;
}

export interface LabelSchema {
  /** Control tags keyed by name, in document order. */
  controls: Map<string, ControlTag>;
}
