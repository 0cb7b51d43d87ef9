/** A usage error found after parsing (e.g. an unknown pid): exit 2 with this message. */
export class UsageError extends Error {}
