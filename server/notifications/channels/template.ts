/** Fills `{name}` placeholders of a JSON template with values escaped for a JSON string; others stay as they are. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? JSON.stringify(values[name]).slice(1, -1) : whole));
}
