/** A usage error found after parsing (e.g. an unknown pid): exit 2 with this message, which names the option. */
export class UsageError extends Error {}
