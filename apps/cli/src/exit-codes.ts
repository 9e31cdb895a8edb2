/** Exit statuses, as the reference's: 0 success, 1 any runtime error, 2 usage errors. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;
