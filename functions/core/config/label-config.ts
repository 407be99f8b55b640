/**
 * Label config → schema (docs/label-studio-behaviour.md#label-config-parsing), data keys (docs/label-studio-behaviour.md#data-keys) and from_name matching (docs/label-studio-behaviour.md#matching-results-to-controls).
 *
 * Two inputs are accepted, as by the reference converter: labeling-config XML, walked exactly like
 * the reference's `parse_config`, and the pre-parsed dict schema Label Studio's backend stores
 * (JSON text starting with `{`), which is validated and then used as is.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import { parseJson } from '../json/parse.ts';
import { isJsonObject, type JsonObject, type JsonValue, keysOf, setKey } from '../json/value.ts';
import type { ControlTag, LabelSchema, SchemaInput } from './schema.ts';

export class LabelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelConfigError';
  }
}

export function parseLabelConfig(text: string): LabelSchema {
  // Only the empty string means "no config": whitespace alone is an XML error in the reference too.
  if (text === '') return { controls: new Map() };
  if (text.trimStart().startsWith('{')) return schemaFromDict(text);
  return schemaFromXml(readXml(text));
}

/**
 * The data keys the config reads: every input `value` (and `valueList`) of every control, optionally
 * only of the controls named in `outputTags`. The reference collects them in a Python set, so its
 * order (and hence "the first data key") varies between runs; we use first-seen order in schema
 * order, which is one of the orders the reference can produce and is stable.
 */
export function dataKeys(schema: LabelSchema, outputTags?: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const control of schema.controls.values()) {
    if (outputTags && !outputTags.includes(control.name)) continue;
    for (const input of control.inputs) {
      keys.add(input.value);
      if (input.valueList !== undefined) keys.add(input.valueList);
    }
  }
  return [...keys];
}

/**
 * The control a result's `from_name` belongs to: the control of that exact name, else the Repeater
 * control (one with `regex` placeholders) whose pattern matches the start of `fromName`, preferring
 * the longest pattern and, among equally long ones, the first.
 */
export function findControl(schema: LabelSchema, fromName: string): ControlTag | undefined {
  const exact = schema.controls.get(fromName);
  if (exact) return exact;
  let best: ControlTag | undefined;
  let bestLength = 0;
  for (const control of schema.controls.values()) {
    const pattern = repeaterPattern(control);
    if (!pattern?.re || pattern.length <= bestLength) continue;
    pattern.re.lastIndex = 0;
    if (pattern.re.test(fromName)) {
      best = control;
      bestLength = pattern.length;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Repeater patterns (docs/label-studio-behaviour.md#matching-results-to-controls)

interface RepeaterPattern {
  source: string;
  /** Length of the pattern string in code points: the reference ranks matches by it. */
  length: number;
  /** Sticky, so `test` is anchored at the start only, like Python's `re.match`; null if invalid. */
  re: RegExp | null;
}

const patternCache = new WeakMap<ControlTag, RepeaterPattern>();

/** The control name with each placeholder replaced by its regex; other characters stay regex syntax. */
function repeaterPattern(control: ControlTag): RepeaterPattern | undefined {
  const regex = control.regex;
  if (!regex || keysOf(regex).length === 0) return undefined;
  let pattern = patternCache.get(control);
  if (!pattern) {
    let source = control.name;
    for (const placeholder of keysOf(regex)) source = replaceLiteral(source, placeholder, regex[placeholder]);
    // No `u` flag: like Python, a stray `{` stays a literal instead of being a syntax error.
    let re: RegExp | null = null;
    try {
      re = new RegExp(source, 'y');
    } catch {
      // Rejected by parseLabelConfig; a hand-built schema with a bad pattern simply never matches.
    }
    pattern = { source, length: [...source].length, re };
    patternCache.set(control, pattern);
  }
  return pattern;
}

/** Python `str.replace(old, new)`: literal, every occurrence; an empty `old` goes around every character. */
function replaceLiteral(s: string, old: string, replacement: string): string {
  if (old === '') return replacement + [...s].map((ch) => ch + replacement).join('');
  return s.split(old).join(replacement);
}

// ---------------------------------------------------------------------------------------------
// XML → schema (docs/label-studio-behaviour.md#label-config-parsing)

interface XmlElement {
  tag: string;
  /** Attributes in document order, entity references decoded. */
  attrs: Record<string, string>;
  children: XmlElement[];
}

const LABEL_TAGS = new Set(['Label', 'Choice']);

const attr = (el: XmlElement, name: string): string | undefined =>
  Object.hasOwn(el.attrs, name) ? el.attrs[name] : undefined;

type ControlHead = Pick<ControlTag, 'name' | 'type' | 'toName' | 'conditionals'>;

function schemaFromXml(root: XmlElement): LabelSchema {
  // Maps keep the first position of a name when a later tag overwrites it, like Python dicts.
  const heads = new Map<string, ControlHead>();
  const objects = new Map<string, SchemaInput>();
  const labels = new Map<string, Map<string, Record<string, string>>>();

  const ownerOf = (ancestors: XmlElement[]): string | undefined => {
    for (let i = ancestors.length - 1; i >= 0; i--) {
      const name = attr(ancestors[i], 'name');
      if (name !== undefined && heads.has(name)) return name;
    }
    return undefined;
  };

  const visit = (el: XmlElement, ancestors: XmlElement[]): void => {
    const name = attr(el, 'name');
    const toName = attr(el, 'toName');
    const value = attr(el, 'value');
    if (name && toName && el.tag !== 'Filter') {
      const conditionals = conditionalsOf(el);
      heads.set(name, {
        name,
        type: el.tag,
        toName: toName.split(','),
        ...(conditionals && { conditionals }),
      });
    } else if (name && value) {
      // Anything with name + value is an object tag, e.g. a named <Header>.
      objects.set(name, { type: el.tag, value: value.replace(/^\$+/, '') });
    }
    // Checked for every element, also one just registered as a control.
    if (LABEL_TAGS.has(el.tag)) {
      const owner = ownerOf(ancestors);
      const key = attr(el, 'alias') || attr(el, 'value');
      if (owner !== undefined && key) {
        let own = labels.get(owner);
        if (!own) labels.set(owner, (own = new Map()));
        own.set(key, el.attrs);
      }
    }
    ancestors.push(el);
    for (const child of el.children) visit(child, ancestors);
    ancestors.pop();
  };
  visit(root, []);

  const controls = new Map<string, ControlTag>();
  for (const [name, head] of heads) {
    const own = labels.get(name) ?? new Map<string, Record<string, string>>();
    const labelsAttrs: Record<string, Record<string, string>> = {};
    for (const [key, attrs] of own) setKey(labelsAttrs, key, attrs);
    controls.set(name, {
      ...head,
      // Object tags may be declared anywhere; names that are not object tags are dropped.
      inputs: head.toName.flatMap((n) => {
        const input = objects.get(n);
        return input ? [{ ...input }] : [];
      }),
      labels: [...own.keys()],
      labelsAttrs,
    });
  }
  return { controls };
}

function conditionalsOf(el: XmlElement): ControlTag['conditionals'] {
  if (attr(el, 'perRegion') !== 'true') return undefined;
  const tag = attr(el, 'whenTagName');
  if (tag) return { type: 'tag', name: tag };
  const label = attr(el, 'whenLabelValue');
  if (label) return { type: 'label', name: label };
  const choice = attr(el, 'whenChoiceValue');
  if (choice) return { type: 'choice', name: choice };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading the XML

const ATTR_PREFIX = '@_'; // also keeps attribute names like `constructor` clear of the parser's guards
const CDATA = '#cdata';
const TEXT = '#text';

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR_PREFIX,
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: false,
  // No entity expansion by the parser: we decode the predefined entities and character references.
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: CDATA,
  maxNestedTags: 256, // lxml's default depth limit
});

type FxpNode = Record<string, unknown>;

const notWellFormed = (detail: string): LabelConfigError =>
  new LabelConfigError(`the label config is not well-formed XML: ${detail}`);

/**
 * Parses the document and returns its root element. fast-xml-parser's validator lets through a few
 * documents that lxml (the reference) rejects; the extra checks reject those too.
 */
function readXml(text: string): XmlElement {
  const badChar = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.exec(text);
  if (badChar) {
    const code = badChar[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw notWellFormed(`it contains the character U+${code}, which XML does not allow`);
  }
  if (text.trim() === '') throw notWellFormed('it is blank');
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    // The validator names elements left open at the end as `Invalid '[ "View", "Labels"]' found` at 1:1.
    const open = /^Invalid '(\[.*\])' found/s.exec(msg);
    if (open) {
      const tags = (JSON.parse(open[1]) as string[]).map((t) => `<${t}>`).join(', ');
      throw notWellFormed(`the document ends with ${tags} still open (a closing tag is missing)`);
    }
    const where = col === undefined ? `line ${line}` : `line ${line}, column ${col}`;
    throw notWellFormed(`${msg.replace(/\.$/, '')} (${where})`);
  }
  const markup = text.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  // Label Studio itself refuses DTDs in label configs, so none can carry entity definitions.
  if (markup.includes('<!DOCTYPE')) throw notWellFormed('a DOCTYPE is not allowed in a label config');
  if (!/>[ \t\r\n]*$/.test(markup)) throw notWellFormed('there is text after the root element');

  let nodes: FxpNode[];
  try {
    nodes = xmlParser.parse(text) as FxpNode[];
  } catch (e) {
    const message = (e as Error).message;
    throw notWellFormed(
      /maximum nested tags/i.test(message) ? 'elements are nested more than 256 deep' : message,
    );
  }
  const roots = nodes.flatMap((n) => toElement(n) ?? []);
  if (roots.length !== 1) throw notWellFormed(`it has ${roots.length} root elements instead of one`);
  return roots[0];
}

/** Converts a parser node; text and CDATA nodes give undefined (text is checked, then dropped). */
function toElement(node: FxpNode): XmlElement | undefined {
  if (Object.hasOwn(node, TEXT)) {
    decodeReferences(String(node[TEXT]), 'the text');
    return undefined;
  }
  const tag = Object.keys(node).find((k) => k !== ':@');
  if (tag === undefined || tag === CDATA) return undefined;
  const attrs: Record<string, string> = {};
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  for (const key of Object.keys(rawAttrs)) {
    const name = key.slice(ATTR_PREFIX.length);
    setKey(attrs, name, attributeValue(rawAttrs[key], `attribute "${name}" of <${tag}>`));
  }
  const children = (node[tag] as FxpNode[]).flatMap((n) => toElement(n) ?? []);
  return { tag, attrs, children };
}

/** XML attribute-value normalisation: literal tabs and line breaks become spaces, then references are decoded. */
function attributeValue(raw: string, where: string): string {
  if (raw.includes('<')) throw notWellFormed(`${where} contains a raw "<"`);
  return decodeReferences(raw.replace(/[\t\n\r]/g, ' '), where);
}

const PREDEFINED_ENTITIES = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);

const REFERENCE = /&(?:(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z_:][\w.:-]*);)?/g;

function decodeReferences(raw: string, where: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(REFERENCE, (_whole, ref: string | undefined) => {
    if (ref === undefined) {
      throw notWellFormed(`${where} contains an "&" that starts no entity (write &amp;)`);
    }
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (!isXmlChar(code)) {
        throw notWellFormed(`${where} references the character &${ref};, which XML does not allow`);
      }
      return String.fromCodePoint(code);
    }
    const text = PREDEFINED_ENTITIES.get(ref);
    if (text === undefined) throw notWellFormed(`${where} uses the undefined entity &${ref};`);
    return text;
  });
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

// ---------------------------------------------------------------------------------------------
// Dict schema → schema

const attrValue = z.union([z.string(), z.number()]);

const dictInput = z.object({
  type: z.string(),
  value: z.string(),
  valueList: z.string().nullish(),
  valueType: z.string().nullish(),
});

// Validation only: the records are rebuilt from the raw JSON so their key order survives.
const dictControl = z.object({
  type: z.string(),
  to_name: z.array(z.string()).optional(),
  inputs: z.array(dictInput),
  labels: z.array(z.string()).optional(),
  labels_attrs: z.record(z.string(), z.record(z.string(), attrValue)).optional(),
  regex: z.record(z.string(), z.string()).nullish(),
  conditionals: z.object({ type: z.enum(['tag', 'label', 'choice']), name: z.string() }).nullish(),
});

function schemaFromDict(text: string): LabelSchema {
  let root: JsonValue;
  try {
    root = parseJson(text);
  } catch (e) {
    throw new LabelConfigError(
      `the label config looks like a JSON schema but is not valid JSON: ${(e as Error).message}`,
    );
  }
  if (!isJsonObject(root)) {
    throw new LabelConfigError('the JSON label schema must be an object of control tags');
  }

  const controls = new Map<string, ControlTag>();
  for (const name of keysOf(root)) {
    const raw = root[name];
    const parsed = dictControl.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`);
      throw new LabelConfigError(
        `control "${name}" of the JSON label schema is invalid: ${issues.join('; ')}`,
      );
    }
    const entry = parsed.data;
    const rawEntry = raw as JsonObject;
    const control: ControlTag = {
      name,
      type: entry.type,
      toName: entry.to_name ?? [],
      inputs: entry.inputs.map((i) => ({
        type: i.type,
        value: i.value,
        ...(i.valueList != null && { valueList: i.valueList }),
        ...(i.valueType != null && { valueType: i.valueType }),
      })),
      labels: entry.labels ?? [],
      labelsAttrs: rawEntry.labels_attrs
        ? orderedRecord(rawEntry.labels_attrs as JsonObject, (attrs) =>
            orderedRecord(attrs as JsonObject, String),
          )
        : {},
      ...(entry.conditionals && { conditionals: entry.conditionals }),
      ...(rawEntry.regex && { regex: orderedRecord(rawEntry.regex as JsonObject, String) }),
    };
    const pattern = repeaterPattern(control);
    if (pattern && !pattern.re) {
      throw new LabelConfigError(
        `control "${name}": its Repeater pattern "${pattern.source}" is not a valid regular expression`,
      );
    }
    controls.set(name, control);
  }
  return { controls };
}

/** A record keeping the JSON's key order (a plain JS object would put integer-like keys first). */
function orderedRecord<T extends JsonValue>(obj: JsonObject, map: (v: JsonValue) => T): Record<string, T> {
  const out: JsonObject = {};
  for (const key of keysOf(obj)) setKey(out, key, map(obj[key]));
  return out as Record<string, T>;
}
