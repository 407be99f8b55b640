/**
 * Number formatting as Python and ujson print floats (docs/label-studio-behaviour.md#number-formatting). JS prints `1` for 1.0
 * and switches to exponents at other thresholds, so every float that reaches an output goes through
 * one of these.
 */

function shortestDigits(x: number): { digits: string; exp: number } {
  // toExponential() without an argument yields the shortest round-trip digits, as repr() does.
  const [mantissa, e] = Math.abs(x).toExponential().split('e');
  return { digits: mantissa.replace('.', ''), exp: Number(e) };
}

function fixed(digits: string, exp: number): string {
  if (exp < 0) return `0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function formatFloat(x: number, padExponent: boolean, nan: string, inf: string): string {
  if (Number.isNaN(x)) return nan;
  if (!Number.isFinite(x)) return x > 0 ? inf : `-${inf}`;
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0.0`;
  const abs = x < 0 ? -x : x;
  if (abs >= 1e-4 && abs < 1e16) {
    // Here JS prints the same shortest digits in fixed notation; Python adds ".0" to integers.
    const text = String(x);
    return Number.isInteger(x) ? `${text}.0` : text;
  }
  const { digits, exp } = shortestDigits(x);
  if (exp >= -4 && exp < 16) return sign + fixed(digits, exp);
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const absExp = String(Math.abs(exp));
  const expText = padExponent && absExp.length < 2 ? `0${absExp}` : absExp;
  return `${sign}${mant}e${exp < 0 ? '-' : '+'}${expText}`;
}

/** Python `repr(float)`: `1.0`, `0.25`, `1e-05`, `1.7763568394002505e-17`, `1e+16`, `nan`, `inf`. */
export function pyFloatRepr(x: number): string {
  return formatFloat(x, true, 'nan', 'inf');
}

/** Python's json module: like repr, but `NaN` / `Infinity`. */
export function pyJsonFloat(x: number): string {
  return formatFloat(x, true, 'NaN', 'Infinity');
}

/** ujson: repr digits, exponent not zero-padded (`1e-5`). */
export function ujsonFloat(x: number): string {
  return formatFloat(x, false, 'NaN', 'Inf');
}

/** Python `round()` for a float: round half to even on the binary value. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; Python rounds a true tie to the even neighbour.
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}
