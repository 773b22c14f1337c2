/**
 * Validation of CronJob schedules: the five-field syntax Kubernetes' CronJob controller accepts
 * (minute hour day-of-month month day-of-week, with lists, ranges, steps, names and "?"), plus the
 * @hourly/@daily/... macros. Time zones go in spec.timeZone, never in the schedule.
 */
import { ValidationError } from "../k8s/validation";

export const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"] as const;

interface Field { name: string; min: number; max: number; names?: string[]; question?: boolean }

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: Field[] = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31, question: true },
    { name: "month", min: 1, max: 12, names: MONTHS },
    // 7 is Sunday too.
    { name: "day of week", min: 0, max: 7, names: DAYS, question: true },
];

function value(text: string, f: Field): number | undefined {
    if (/^[0-9]+$/.test(text)) {
        const n = Number(text);
        return n >= f.min && n <= f.max ? n : undefined;
    }
    const i = f.names?.indexOf(text.toUpperCase()) ?? -1;
    if (i < 0) {
        return undefined;
    }
    return f.names === MONTHS ? i + 1 : i;
}

function fieldError(f: Field, part: string): string | undefined {
    if (f.question && part === "?") {
        return undefined;
    }
    for (const item of part.split(",")) {
        const m = /^([^/]+)(?:\/([0-9]+))?$/.exec(item);
        if (!m) {
            return `"${item}" in the ${f.name} field`;
        }
        const [, range, step] = m;
        if (step !== undefined && (Number(step) < 1 || Number(step) > f.max)) {
            return `step "${step}" in the ${f.name} field`;
        }
        if (range === "*") {
            continue;
        }
        const bounds = range.split("-");
        if (bounds.length > 2) {
            return `"${item}" in the ${f.name} field`;
        }
        const lo = value(bounds[0], f);
        const hi = bounds.length === 2 ? value(bounds[1], f) : lo;
        if (lo === undefined || hi === undefined) {
            return `"${item}" in the ${f.name} field (allowed ${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : ""})`;
        }
        if (lo > hi) {
            return `range "${range}" in the ${f.name} field runs backwards`;
        }
    }
    return undefined;
}

/** Returns the schedule, or throws a ValidationError naming the key and the allowed syntax. */
export function requireCronSchedule(key: string, schedule: unknown): string {
    const allowed = `allowed: five fields "minute hour day-of-month month day-of-week" (e.g. "0 2 * * *") or one of ${CRON_MACROS.join(", ")}`;
    if (typeof schedule !== "string" || schedule.trim() === "") {
        throw new ValidationError(key, `${JSON.stringify(schedule)} is not a schedule; ${allowed}`);
    }
    const text = schedule.trim();
    if (/^(CRON_)?TZ=/.test(text)) {
        throw new ValidationError(key, `${JSON.stringify(schedule)} sets a time zone in the schedule; allowed: the timeZone arg instead`);
    }
    if (text.startsWith("@")) {
        if (!(CRON_MACROS as readonly string[]).includes(text)) {
            throw new ValidationError(key, `${JSON.stringify(schedule)} is not a schedule; ${allowed}`);
        }
        return text;
    }
    const parts = text.split(/\s+/);
    if (parts.length !== 5) {
        throw new ValidationError(key, `${JSON.stringify(schedule)} has ${parts.length} fields; ${allowed}`);
    }
    for (let i = 0; i < 5; i++) {
        const err = fieldError(FIELDS[i], parts[i]);
        if (err) {
            throw new ValidationError(key, `${JSON.stringify(schedule)} is not a schedule: ${err}; ${allowed}`);
        }
    }
    return text;
}
