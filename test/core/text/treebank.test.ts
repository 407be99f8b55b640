import { describe, expect, it } from 'vitest';
import { NumLit } from '../../../functions/core/json/value.ts';
import { type ConllSpan, conllTags, spanTokenize } from '../../../functions/core/text/treebank.ts';

/** [token, start, end] triples; offsets are code points. */
const spans = (text: string) => spanTokenize(text).map((t) => [t.text, t.start, t.end]);
const words = (text: string) => spanTokenize(text).map((t) => t.text);
/** create_tokens_and_tags: tokens and their tags. */
const tagged = (text: string, s: ConllSpan[] | null | undefined) => {
  const tokens = spanTokenize(text);
  return { tokens: tokens.map((t) => t.text), tags: conllTags(tokens, s) };
};

describe('spanTokenize: observed tokenizations (docs/label-studio-behaviour.md#treebank-tokenizer)', () => {
  it('keeps mid-text periods attached and splits only the final one', () => {
    expect(spans('Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\nThanks.')).toEqual([
      ['Good', 0, 4],
      ['muffins', 5, 12],
      ['cost', 13, 17],
      ['$', 18, 19],
      ['3.88', 19, 23],
      ['in', 24, 26],
      ['New', 27, 30],
      ['York.', 31, 36],
      ['Please', 38, 44],
      ['buy', 45, 48],
      ['me', 49, 51],
      ['two', 52, 55],
      ['of', 56, 58],
      ['them.', 59, 64],
      ['Thanks', 65, 71],
      ['.', 71, 72],
    ]);
  });

  it("restores double quotes and splits n't", () => {
    expect(spans('He said, "I can\'t go." (really)')).toEqual([
      ['He', 0, 2],
      ['said', 3, 7],
      [',', 7, 8],
      ['"', 9, 10],
      ['I', 10, 11],
      ['ca', 12, 14],
      ["n't", 14, 17],
      ['go.', 18, 21],
      ['"', 21, 22],
      ['(', 23, 24],
      ['really', 24, 30],
      [')', 30, 31],
    ]);
  });

  it('splits contractions and the ellipsis', () => {
    expect(spans("They'll gonna wanna cannot 'tis e.g. U.S.A. end...")).toEqual([
      ['They', 0, 4],
      ["'ll", 4, 7],
      ['gon', 8, 11],
      ['na', 11, 13],
      ['wan', 14, 17],
      ['na', 17, 19],
      ['can', 20, 23],
      ['not', 23, 26],
      ["'t", 27, 29],
      ['is', 29, 31],
      ['e.g.', 32, 36],
      ['U.S.A.', 37, 43],
      ['end', 44, 47],
      ['...', 47, 50],
    ]);
  });

  it('pads the converter symbols including `/`, keeps 1,000 together', () => {
    expect(words('Visit https://example.com/a/b?x=1&y=2 now: ok, 1,000 items; 50% off!? #tag @user')).toEqual(
      [
        'Visit',
        'https',
        ':',
        '/',
        '/',
        'example.com',
        '/',
        'a',
        '/',
        'b',
        '?',
        'x=1',
        '&',
        'y=2',
        'now',
        ':',
        'ok',
        ',',
        '1,000',
        'items',
        ';',
        '50',
        '%',
        'off',
        '!',
        '?',
        '#',
        'tag',
        '@',
        'user',
      ],
    );
  });

  it('splits a quote followed by a space, and double dashes', () => {
    expect(words("rock 'n' roll -- dash--dash")).toEqual([
      'rock',
      "'n",
      "'",
      'roll',
      '--',
      'dash',
      '--',
      'dash',
    ]);
  });

  it('splits `:` and `,` unless a digit follows', () => {
    expect(words('a: b:c 1:2 x,y')).toEqual(['a', ':', 'b', ':', 'c', '1:2', 'x', ',', 'y']);
  });

  it('counts an emoji as one code point', () => {
    expect(spans('emoji 😀 x')).toEqual([
      ['emoji', 0, 5],
      ['😀', 6, 7],
      ['x', 8, 9],
    ]);
  });

  it('treats U+00A0 and U+2003 as whitespace', () => {
    expect(spans('caf\u00e9 na\u00efve \u00a0nbsp\u2003emsp end')).toEqual([
      ['café', 0, 4],
      ['naïve', 5, 10],
      ['nbsp', 12, 16],
      ['emsp', 17, 21],
      ['end', 22, 25],
    ]);
  });
});

describe('test_export_conll.py (docs/label-studio-behaviour.md#reference-tests)', () => {
  it('eol', () => {
    const spansIn = [{ end: 14, labels: ['Person'], start: 9, text: 'break', type: 'Labels' }];
    expect(tagged('I need a break\nplease', spansIn)).toEqual({
      tokens: ['I', 'need', 'a', 'break', 'please'],
      tags: ['O', 'O', 'O', 'B-Person', 'O'],
    });
  });

  it('tab', () => {
    const spansIn = [{ end: 12, labels: ['Person'], start: 9, text: 'tab', type: 'Labels' }];
    expect(tagged('I need a tab\tplease', spansIn)).toEqual({
      tokens: ['I', 'need', 'a', 'tab', 'please'],
      tags: ['O', 'O', 'O', 'B-Person', 'O'],
    });
  });

  const ball = 'We gave Jane Smith the ball.';
  const ballTokens = ['We', 'gave', 'Jane', 'Smith', 'the', 'ball', '.'];

  it('full token: a span inside a token tags the whole token', () => {
    expect(tagged(ball, [{ end: 12, labels: ['Person'], start: 9 }])).toEqual({
      tokens: ballTokens,
      tags: ['O', 'O', 'B-Person', 'O', 'O', 'O', 'O'],
    });
  });

  it('leading space', () => {
    expect(tagged(ball, [{ end: 18, labels: ['Person'], start: 7 }])).toEqual({
      tokens: ballTokens,
      tags: ['O', 'O', 'B-Person', 'I-Person', 'O', 'O', 'O'],
    });
  });

  it('trailing space', () => {
    expect(tagged(ball, [{ end: 19, labels: ['Person'], start: 8 }])).toEqual({
      tokens: ballTokens,
      tags: ['O', 'O', 'B-Person', 'I-Person', 'O', 'O', 'O'],
    });
  });

  it('dollar', () => {
    expect(tagged('A meal with $3.99 bill', [{ end: 16, labels: ['Person'], start: 12 }])).toEqual({
      tokens: ['A', 'meal', 'with', '$', '3.99', 'bill'],
      tags: ['O', 'O', 'O', 'B-Person', 'I-Person', 'O'],
    });
  });

  it('slash', () => {
    const spansIn = [
      { end: 17, labels: ['ORG'], start: 12 },
      { end: 22, labels: ['ORG'], start: 19 },
    ];
    expect(tagged('A meal from Google/Facebook', spansIn)).toEqual({
      tokens: ['A', 'meal', 'from', 'Google', '/', 'Facebook'],
      tags: ['O', 'O', 'O', 'B-ORG', 'O', 'B-ORG'],
    });
  });

  it('ampersand', () => {
    const text =
      "They're the world's most fear;some fighting team,Teenage Mut;ant Ninja Turtles (We're really hip!).They're heroes in the half-shell and they're green,Teenage Mutant Ninja Turtles (Hey, get a grip!),When the evil Shre&dder attacks These Turtle boys don't cut him no slack! Spli\\/nter taught them to be ninja teens.. Teen#age Mutant Ninja Turtles (He's a radi@cal rat!), Leonardo leads, Donat#ello does machines, Teenage Mutant Ninja Turtles (That's a fact, Jack!),Raphael is cool but rude (Gimme a break!), Michel;angelo is a party dude (Party!)";
    const spansIn = [
      { start: 0, end: 4, labels: ['PER'] },
      { start: 12, end: 17, labels: ['PER'] },
      { start: 57, end: 60, labels: ['PER'] },
      { start: 212, end: 216, labels: ['PER'] },
      { start: 314, end: 318, labels: ['PER'] },
      { start: 272, end: 276, labels: ['PER'] },
    ];
    const { tokens, tags } = tagged(text, spansIn);
    expect(tokens.slice(51, 55)).toEqual(['evil', 'Shre', '&', 'dder']);
    expect(tags.slice(51, 54)).toEqual(['O', 'B-PER', 'O']);
  });

  it('hash', () => {
    const spansIn = [
      { start: 0, end: 3, labels: ['PER'] },
      { start: 5, end: 7, labels: ['ORG'] },
      { start: 24, end: 27, labels: ['PER'] },
      { start: 29, end: 30, labels: ['ORG'] },
    ];
    expect(tagged('Mut;ant Ninja Turtles. Teen#age Mutant Ninja Turtles.', spansIn)).toEqual({
      tokens: ['Mut', ';', 'ant', 'Ninja', 'Turtles.', 'Teen', '#', 'age', 'Mutant', 'Ninja', 'Turtles', '.'],
      tags: ['B-PER', 'O', 'B-ORG', 'O', 'O', 'B-PER', 'O', 'B-ORG', 'O', 'O', 'O', 'O'],
    });
  });
});

describe('spanTokenize: Python semantics', () => {
  it('uses code-point offsets after astral characters and emoji sequences', () => {
    // 👍🏽 is two code points (thumbs up + skin tone), 😀 one.
    expect(spans('👍🏽 ok 😀.')).toEqual([
      ['👍🏽', 0, 2],
      ['ok', 3, 5],
      ['😀', 6, 7],
      ['.', 7, 8],
    ]);
  });

  it('splits on Python whitespace: U+00A0, U+2003, U+001C, U+0085', () => {
    expect(spans('a\u00a0b\u2003c')).toEqual([
      ['a', 0, 1],
      ['b', 2, 3],
      ['c', 4, 5],
    ]);
    expect(spans('a\x1cb\x85c end.\x1c')).toEqual([
      ['a', 0, 1],
      ['b', 2, 3],
      ['c', 4, 5],
      ['end', 6, 9],
      ['.', 9, 10],
    ]);
  });

  it('does not treat U+FEFF as whitespace (JS \\s does)', () => {
    expect(spans('a\ufeffb c')).toEqual([
      ['a\ufeffb', 0, 3],
      ['c', 4, 5],
    ]);
    // Not `\s` either, so the period is not final.
    expect(words('end.\ufeff')).toEqual(['end.\ufeff']);
    // `wanna` needs Python whitespace after it.
    expect(words('wanna\u00a0go wanna\ufeffgo')).toEqual(['wan', 'na', 'go', 'wanna\ufeffgo']);
  });

  it('treats any Unicode decimal digit as a digit after `:` and `,`', () => {
    expect(words('a:\u0661 x,\u0662 a:b')).toEqual(['a:\u0661', 'x,\u0662', 'a', ':', 'b']);
  });

  it('uses Python word boundaries: a combining mark is not a word character', () => {
    expect(spans('x\u0301cannot')).toEqual([
      ['x\u0301', 0, 2],
      ['can', 2, 5],
      ['not', 5, 8],
    ]);
  });

  it("matches Python's case-insensitive `i` (İ, ı)", () => {
    expect(words('GİMME ıs')).toEqual(['GİM', 'ME', 'ıs']);
  });

  it('handles `$` before a final newline', () => {
    expect(spans('Hello,\n')).toEqual([
      ['Hello', 0, 5],
      [',', 5, 6],
    ]);
    expect(spans('end.\n')).toEqual([
      ['end', 0, 3],
      ['.', 3, 4],
    ]);
    expect(words('Hmm:\n')).toEqual(['Hmm', ':']);
    expect(words('Note:')).toEqual(['Note', ':']);
  });

  it('returns no tokens for empty or blank text', () => {
    expect(spanTokenize('')).toEqual([]);
    expect(spanTokenize('  \n ')).toEqual([]);
  });
});

describe('spanTokenize: rules', () => {
  it("restores '' and \" quotes in source order", () => {
    const text = 'I said, "I\'d like to buy some \'\'good muffins" which cost $3.88\n each in New (York)."';
    expect(spans(text)).toEqual([
      ['I', 0, 1],
      ['said', 2, 6],
      [',', 6, 7],
      ['"', 8, 9],
      ['I', 9, 10],
      ["'d", 10, 12],
      ['like', 13, 17],
      ['to', 18, 20],
      ['buy', 21, 24],
      ['some', 25, 29],
      ["''", 30, 32],
      ['good', 32, 36],
      ['muffins', 37, 44],
      ['"', 44, 45],
      ['which', 46, 51],
      ['cost', 52, 56],
      ['$', 57, 58],
      ['3.88', 58, 62],
      ['each', 64, 68],
      ['in', 69, 71],
      ['New', 72, 75],
      ['(', 76, 77],
      ['York', 77, 81],
      [')', 81, 82],
      ['.', 82, 83],
      ['"', 83, 84],
    ]);
    expect(spans("''Hello,'' she said ``hi''.")).toEqual([
      ["''", 0, 2],
      ['Hello', 2, 7],
      [',', 7, 8],
      ["''", 8, 10],
      ['she', 11, 14],
      ['said', 15, 19],
      ['``', 20, 22],
      ['hi', 22, 24],
      ["''", 24, 26],
      ['.', 26, 27],
    ]);
  });

  it('splits the final period together with closing brackets and quotes', () => {
    expect(spans('He left (the end.)')).toEqual([
      ['He', 0, 2],
      ['left', 3, 7],
      ['(', 8, 9],
      ['the', 9, 12],
      ['end', 13, 16],
      ['.', 16, 17],
      [')', 17, 18],
    ]);
    expect(spans('She said "the end."')).toEqual([
      ['She', 0, 3],
      ['said', 4, 8],
      ['"', 9, 10],
      ['the', 10, 13],
      ['end', 14, 17],
      ['.', 17, 18],
      ['"', 18, 19],
    ]);
    expect(words("end.'")).toEqual(['end', '.', "'"]);
    expect(spans('end.)  \n')).toEqual([
      ['end', 0, 3],
      ['.', 3, 4],
      [')', 4, 5],
    ]);
    // Only a period preceded by a non-period is final.
    expect(words('U.S. is end..')).toEqual(['U.S.', 'is', 'end..']);
  });

  it('pads only the first of two commas (the second is consumed as the following char)', () => {
    expect(spans('a,,b')).toEqual([
      ['a', 0, 1],
      [',', 1, 2],
      [',b', 2, 4],
    ]);
  });

  it('splits contractions case-insensitively on word boundaries', () => {
    expect(words('cannot Cannot GONNA cannotx')).toEqual([
      'can',
      'not',
      'Can',
      'not',
      'GON',
      'NA',
      'cannotx',
    ]);
    expect(words("d'ye more'n gimme lemme gotta")).toEqual([
      'd',
      "'ye",
      'more',
      "'n",
      'gim',
      'me',
      'lem',
      'me',
      'got',
      'ta',
    ]);
    expect(words("don't I'm we'll THEY'RE")).toEqual(['do', "n't", 'I', "'m", 'we', "'ll", 'THEY', "'RE"]);
  });

  it("splits 'tis / 'twas only after a space", () => {
    expect(spans("'Tis x'tis 'twas")).toEqual([
      ["'T", 0, 2],
      ['is', 2, 4],
      ["x'tis", 5, 10],
      ["'t", 11, 13],
      ['was', 13, 16],
    ]);
  });

  it('splits wanna only before whitespace, gonna before any non-word char', () => {
    expect(words('I wanna.')).toEqual(['I', 'wan', 'na', '.']);
    expect(words('wanna-go gonna-go')).toEqual(['wanna-go', 'gon', 'na', '-go']);
  });
});

describe('conllTags (docs/label-studio-behaviour.md#bio-tags)', () => {
  it('tags everything O without spans, or when any span lacks start or end', () => {
    expect(tagged('a b c', []).tags).toEqual(['O', 'O', 'O']);
    expect(tagged('a b c', null).tags).toEqual(['O', 'O', 'O']);
    const withNull = [
      { start: 0, end: 1, labels: ['A'] },
      { start: null, end: 5, labels: ['Z'] },
    ];
    expect(tagged('a b c', withNull).tags).toEqual(['O', 'O', 'O']);
    expect(
      tagged('a b c', [
        { start: 0, end: 1, labels: ['A'] },
        { end: 5, labels: ['Z'] },
      ]).tags,
    ).toEqual(['O', 'O', 'O']);
  });

  it('gives adjacent spans with the same label two B- tags', () => {
    const spansIn = [
      { start: 0, end: 3, labels: ['LOC'] },
      { start: 4, end: 8, labels: ['LOC'] },
    ];
    expect(tagged('New York City', spansIn).tags).toEqual(['B-LOC', 'B-LOC', 'O']);
  });

  it('sorts spans by start, stably', () => {
    const unsorted = [
      { start: 4, end: 5, labels: ['Z'] },
      { start: 0, end: 1, labels: ['A'] },
    ];
    expect(tagged('a b c', unsorted).tags).toEqual(['B-A', 'O', 'B-Z']);
    const a = { start: 0, end: 1, labels: ['A'] };
    const b = { start: 0, end: 1, labels: ['B'] };
    expect(tagged('a b', [a, b]).tags).toEqual(['B-A', 'O']);
    expect(tagged('a b', [b, a]).tags).toEqual(['B-B', 'O']);
  });

  it('skips a span nested in the current one', () => {
    const spansIn = [
      { start: 0, end: 5, labels: ['X'] },
      { start: 2, end: 3, labels: ['Y'] },
    ];
    expect(tagged('a b c d', spansIn).tags).toEqual(['B-X', 'I-X', 'I-X', 'O']);
  });

  it('moves on to overlapping spans once the current one is passed', () => {
    const spansIn = [
      { start: 0, end: 3, labels: ['X'] },
      { start: 2, end: 5, labels: ['Y'] },
      { start: 4, end: 7, labels: ['Z'] },
    ];
    expect(tagged('a b c d', spansIn).tags).toEqual(['B-X', 'I-X', 'B-Y', 'B-Z']);
  });

  it('tags O for a span with empty labels', () => {
    const spansIn = [
      { start: 0, end: 3, labels: [] },
      { start: 4, end: 5, labels: ['Z'] },
    ];
    expect(tagged('a b c', spansIn).tags).toEqual(['O', 'O', 'B-Z']);
  });

  it('uses code-point span offsets', () => {
    expect(tagged('😀 Bob', [{ start: 2, end: 5, labels: ['PER'] }]).tags).toEqual(['O', 'B-PER']);
  });

  it('accepts float literals and Python ints (bool) as offsets', () => {
    const spansIn = [
      { start: 0, end: NumLit.float(4), labels: ['P'] },
      { start: 5.5, end: 10, labels: ['P'] },
    ];
    expect(tagged('Jane Smith', spansIn).tags).toEqual(['B-P', 'B-P']);
    expect(tagged('a b c', [{ start: true, end: 3, labels: ['A'] }]).tags).toEqual(['O', 'B-A', 'O']);
  });

  it('takes the first character of a string label, as Python indexing does', () => {
    expect(tagged('a b c', [{ start: 0, end: 5, labels: 'PER' }]).tags).toEqual(['B-P', 'I-P', 'I-P']);
  });

  it('throws TypeError where the reference crashes', () => {
    expect(() => tagged('a b', [{ start: '0', end: 1, labels: ['A'] }])).toThrow(TypeError);
    expect(() => tagged('a b', [{ start: 0, end: 1, labels: [7] }])).toThrow(TypeError);
  });
});
