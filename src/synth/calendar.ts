// Dates as whole days since 1970-01-01 (UTC), with month arithmetic that matches
// DuckDB's `date - INTERVAL n MONTH` (the day is clamped to the end of a shorter month).

const MS_PER_DAY = 86_400_000;

export function dayOf(iso: string): number {
  return Math.round(Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY);
}

const isoCache = new Map<number, string>();
export function isoOf(day: number): string {
  let s = isoCache.get(day);
  if (s === undefined) {
    s = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    isoCache.set(day, s);
  }
  return s;
}

const monthsCache = new Map<number, number>();
export function addMonths(day: number, months: number): number {
  // The generator asks for the same few dates millions of times.
  const key = day * 4096 + months + 2048;
  const hit = monthsCache.get(key);
  if (hit !== undefined) return hit;
  const result = addMonthsUncached(day, months);
  monthsCache.set(key, result);
  return result;
}

function addMonthsUncached(day: number, months: number): number {
  const d = new Date(day * MS_PER_DAY);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const target = new Date(Date.UTC(y, m, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return Math.round(target.getTime() / MS_PER_DAY);
}

/** First day of the month holding `day`. */
export function monthStart(day: number): number {
  const d = new Date(day * MS_PER_DAY);
  return Math.round(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / MS_PER_DAY);
}

/** Whole years from `birthDay` to `onDay`. */
const ageCache = new Map<number, number>();
export function ageOn(birthDay: number, onDay: number): number {
  const key = birthDay * 131072 + (onDay - birthDay);
  const hit = ageCache.get(key);
  if (hit !== undefined) return hit;
  const age = ageOnUncached(birthDay, onDay);
  if (ageCache.size < 1_000_000) ageCache.set(key, age);
  return age;
}

function ageOnUncached(birthDay: number, onDay: number): number {
  const b = new Date(birthDay * MS_PER_DAY);
  const o = new Date(onDay * MS_PER_DAY);
  let age = o.getUTCFullYear() - b.getUTCFullYear();
  if (
    o.getUTCMonth() < b.getUTCMonth() ||
    (o.getUTCMonth() === b.getUTCMonth() && o.getUTCDate() < b.getUTCDate())
  )
    age--;
  return age;
}
