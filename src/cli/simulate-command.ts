export async function simulateCommand(): Promise<void> {}
