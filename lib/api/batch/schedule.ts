// Cron schedules as CronJobs take them: the standard five fields or a descriptor (@hourly,
// @every 1h), checked with the messages of github.com/robfig/cron/v3's ParseStandard (which kube
// uses), and their next and previous times computed by cron-parser in the CronJob's time zone.

import cronParser from 'cron-parser';
import { parseDuration } from '../../machinery/duration.js';

/** ScheduleError is a schedule that does not parse; its message is robfig/cron's. */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const fieldBounds: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: Object.fromEntries(months.map((m, i) => [m, i + 1])) },
  { min: 0, max: 6, names: Object.fromEntries(days.map((d, i) => [d, i])) },
];

/** mustParseInt parses a number and fails with strconv.Atoi's error text. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) throw new ScheduleError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number.parseInt(expr, 10);
  if (n < 0) throw new ScheduleError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names?: Record<string, number>): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

/** checkRange is robfig's getRange for one comma-separated part of a field. */
function checkRange(expr: string, b: Bounds): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number;
  let end: number;
  const singleDigit = lowAndHigh.length === 1;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, b.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, b.names);
    else throw new ScheduleError(`too many hyphens: ${expr}`);
  }
  if (rangeAndStep.length === 2) {
    const step = mustParseInt(rangeAndStep[1]!);
    if (step === 0) throw new ScheduleError(`step of range should be a positive number: ${expr}`);
    if (singleDigit && lowAndHigh[0] !== '*' && lowAndHigh[0] !== '?') end = b.max;
  } else if (rangeAndStep.length > 2) {
    throw new ScheduleError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new ScheduleError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new ScheduleError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new ScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
}

/** ParsedSchedule is a schedule ready to compute times: five cron fields, or a constant delay. */
export type ParsedSchedule = { kind: 'cron'; fields: string; tz?: string } | { kind: 'every'; ms: number };

/** stripTZ splits a leading `TZ=zone` or `CRON_TZ=zone` off a schedule, as robfig does. */
function stripTZ(schedule: string): { spec: string; tz?: string } {
  const m = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(schedule.trim());
  return m ? { spec: m[2]!, tz: m[1] } : { spec: schedule.trim() };
}

/** parseSchedule is cron.ParseStandard: it throws ScheduleError with robfig/cron's message. */
export function parseSchedule(schedule: string): ParsedSchedule {
  const { spec, tz } = stripTZ(schedule);
  if (spec.startsWith('@')) {
    if (spec.startsWith('@every ')) {
      const text = spec.slice('@every '.length).trim();
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        throw new ScheduleError(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(text)}`);
      }
      // robfig rounds a delay below a second up to one second.
      return { kind: 'every', ms: Math.max(1000, Math.floor(ms / 1000) * 1000) };
    }
    const fields = descriptors[spec];
    if (!fields) throw new ScheduleError(`unrecognized descriptor: ${spec}`);
    return { kind: 'cron', fields, tz };
  }
  const fields = spec.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new ScheduleError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  fields.forEach((f, i) => {
    for (const part of f.split(',')) checkRange(part, fieldBounds[i]!);
  });
  return { kind: 'cron', fields: fields.join(' '), tz };
}

/** nextAfter is Schedule.Next: the first time strictly after `after` (ms) in zone tz (undefined: UTC). */
export function nextAfter(s: ParsedSchedule, after: number, tz?: string): number | undefined {
  if (s.kind === 'every') return Math.floor(after / 1000) * 1000 + s.ms;
  try {
    const it = cronParser.parseExpression(s.fields, { currentDate: new Date(after), tz: s.tz ?? tz ?? 'UTC' });
    return it.next().getTime();
  } catch {
    return undefined; // No time matches (such as 30 February).
  }
}

/** isValidTimeZone: the IANA zone is known to this process's time zone database. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** formatInZone is Go's time.Format(time.RFC3339) of t in zone tz: `Z` for UTC, else `+hh:mm`. */
export function formatInZone(t: number, tz?: string): string {
  const utc = new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
  if (!tz || tz === 'UTC') return utc;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset',
  }).formatToParts(new Date(t));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const offset = get('timeZoneName').replace(/^GMT/, '');
  const zone = offset === '' ? 'Z' : offset;
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}${zone}`;
}
