/** IANA time zone names as Node's Intl knows them. */

/** Whether `name` is a time zone Node knows (`Europe/Berlin`, `UTC`); the empty string is not one. */
export function isTimeZone(name: string): boolean {
  if (name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
