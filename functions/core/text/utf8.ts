/** UTF-8 byte rules shared by the readers' validity check and the splitter's piece decoder. */

/** Bytes of a UTF-8 sequence that starts with `lead` (0 for a continuation or invalid byte). */
export function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}
