export function chromiumPath(): string | undefined;
export const chromiumArgs: string[];
export function launchOptions(): { executablePath?: string; args: string[] };
