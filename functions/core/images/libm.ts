/**
 * Correctly rounded sin, cos and atan, and a fused multiply-add.
 *
 * The reference computes rotated boxes with Python's `math` module, i.e. glibc's libm, whose sin,
 * cos and atan are correctly rounded in all but a few cases in a thousand. V8's `Math.sin/cos/atan`
 * (fdlibm) differ from the correctly rounded value in the last bit for about 3 % of arguments,
 * which shows in YOLO OBB lines and COCO rotated boxes. These evaluate in double-double arithmetic
 * (~106 bits) and round once, so they agree with glibc wherever glibc is correctly rounded.
 */

/** A double-double: the unevaluated sum hi + lo, |lo| ≤ ulp(hi)/2. */
type DD = [hi: number, lo: number];

const SPLITTER = 134217729; // 2^27 + 1

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(a: DD, b: DD): DD {
  const [s, e0] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s1, e1] = quickTwoSum(s, e0 + t);
  return quickTwoSum(s1, e1 + f);
}

const neg = (a: DD): DD => [-a[0], -a[1]];

function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

function mulNum(a: DD, b: number): DD {
  const [p, e] = twoProd(a[0], b);
  return quickTwoSum(p, e + a[1] * b);
}

function div(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  let r = add(a, neg(mulNum(b, q1)));
  const q2 = r[0] / b[0];
  r = add(r, neg(mulNum(b, q2)));
  const q3 = r[0] / b[0];
  return add(quickTwoSum(q1, q2), [q3, 0]);
}

// π/2 in four parts (fdlibm's 33-bit splits, then the rest), good to ~150 bits.
const PIO2_1 = 1.5707963267341256;
const PIO2_2 = 6.077100506303966e-11;
const PIO2_3 = 2.0222662487111665e-21;
const PIO2_3T = 8.4784276603689e-32;
const INV_PIO2 = 0.6366197723675814;

/** 1/n! for n = 0…31, as double-doubles. */
const INV_FACT: DD[] = (() => {
  const out: DD[] = [[1, 0]];
  for (let n = 1; n <= 31; n++) out.push(div(out[n - 1], [n, 0]));
  return out;
})();

/** x − k·π/2 with |result| ≤ ~π/4, and k mod 4. */
function reduce(x: number): { r: DD; q: number } {
  if (Math.abs(x) <= Math.PI / 4) return { r: [x, 0], q: 0 };
  const k = Math.round(x * INV_PIO2);
  let r: DD = add([x, 0], neg(twoProd(k, PIO2_1)));
  r = add(r, neg(twoProd(k, PIO2_2)));
  r = add(r, neg(twoProd(k, PIO2_3)));
  r = add(r, neg(twoProd(k, PIO2_3T)));
  return { r, q: ((k % 4) + 4) % 4 };
}

/** sin and cos of a reduced argument (|r| ≤ ~π/4) by Taylor series in double-double. */
function sinCosReduced(r: DD): { s: DD; c: DD } {
  const r2 = mul(r, r);
  // sin r = r·Σ (−r²)^k / (2k+1)!, cos r = Σ (−r²)^k / (2k)!, Horner from the top.
  let s: DD = INV_FACT[31];
  for (let n = 29; n >= 1; n -= 2) s = add(INV_FACT[n], neg(mul(r2, s)));
  s = mul(s, r);
  let c: DD = INV_FACT[30];
  for (let n = 28; n >= 0; n -= 2) c = add(INV_FACT[n], neg(mul(r2, c)));
  return { s, c };
}

function sinCosDD(x: number): { s: DD; c: DD } {
  const { r, q } = reduce(x);
  const { s, c } = sinCosReduced(r);
  switch (q) {
    case 0:
      return { s, c };
    case 1:
      return { s: c, c: neg(s) };
    case 2:
      return { s: neg(s), c: neg(c) };
    default:
      return { s: neg(c), c: s };
  }
}

const usable = (x: number) => Number.isFinite(x) && Math.abs(x) < 1e9;

/** Correctly rounded sin (falls back to Math.sin outside |x| < 1e9). */
export function crSin(x: number): number {
  if (!usable(x) || x === 0) return Math.sin(x);
  const { s } = sinCosDD(x);
  return s[0] + s[1];
}

/** Correctly rounded cos (falls back to Math.cos outside |x| < 1e9). */
export function crCos(x: number): number {
  if (!usable(x)) return Math.cos(x);
  const { c } = sinCosDD(x);
  return c[0] + c[1];
}

/** Correctly rounded atan: one Newton step in double-double from Math.atan. */
export function crAtan(t: number): number {
  if (!Number.isFinite(t) || t === 0) return Math.atan(t);
  const y0 = Math.atan(t);
  const { s, c } = sinCosDD(y0);
  // atan(t) = y0 + atan(u), u = (t·cos y0 − sin y0) / (cos y0 + t·sin y0); |u| ~ 1e-16.
  const num = add(mulNum(c, t), neg(s));
  const den = add(c, mulNum(s, t));
  const u = div(num, den);
  const [hi, lo] = add([y0, 0], u);
  return hi + lo;
}

// Fused multiply-add (Boldo & Melquiond: an exact product, then a sum rounded to odd, then to nearest).

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The neighbour of x one ulp towards `dir` (x finite, non-zero). */
function step(x: number, dir: number): number {
  f64[0] = x;
  // Moving away from zero increments the magnitude bits, towards zero decrements them.
  u64[0] += x > 0 === dir > 0 ? 1n : -1n;
  return f64[0];
}

/** x + y rounded to odd: exact sums stay, inexact ones take the neighbour with an odd last bit. */
function addRoundToOdd(x: number, y: number): number {
  const [s, e] = twoSum(x, y);
  if (e === 0 || s === 0 || !Number.isFinite(s)) return s;
  f64[0] = s;
  return (u64[0] & 1n) === 1n ? s : step(s, e);
}

/** fma(a, b, c) = a·b + c rounded once, as the FMA instruction computes it. */
export function fma(a: number, b: number, c: number): number {
  const [uh, ul] = twoProd(a, b);
  if (!Number.isFinite(uh)) return a * b + c;
  const [th, tl] = twoSum(c, uh);
  return th + addRoundToOdd(tl, ul);
}
