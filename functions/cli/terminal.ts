/**
 * Text from task data (control names, reasons quoting values, file names) reaches the terminal in
 * the CLI's messages: its control characters are shown as `\uXXXX` escapes, so a task cannot move
 * the cursor, clear the screen or set the window title. Line feeds and tabs stay.
 */

// C0 controls but TAB and LF, DEL, and the C1 controls (ESC's 8-bit forms).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with every control character but `\n` and `\t` written as a `\uXXXX` escape. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
