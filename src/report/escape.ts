/**
 * Escapes text for HTML and SVG, in element content and in quoted attribute values alike:
 * every name, label and config value in a report comes from files or flags a user controls.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
