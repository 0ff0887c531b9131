import { InvalidArgumentError } from 'commander';
import { OUTPUT_FORMATS, type OutputFormat } from '../contract/index.js';

/** `--format txt,srt` → the formats, each one the API knows. */
export function parseFormats(value: string): OutputFormat[] {
  const formats = value
    .split(',')
    .map((format) => format.trim().toLowerCase())
    .filter(Boolean);
  const unknown = formats.filter((format) => !(OUTPUT_FORMATS as readonly string[]).includes(format));
  if (formats.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`formats are ${OUTPUT_FORMATS.join(', ')} (comma-separated)`);
  }
  return [...new Set(formats)] as OutputFormat[];
}

export function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number of at least 1');
  return number;
}

/** For repeatable options: `--include a --include b,c` → `[a, b, c]`. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ];
}
