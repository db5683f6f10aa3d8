/** HTML-escapes text put into hover labels and annotations. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function stripTags(s: string): string {
  return s.replace(/<[^>]*>/g, "");
}
