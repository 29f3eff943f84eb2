import { describe, expect, it } from 'vitest';
import { agentV8Flags } from '../../src/cli/agent-runtime.js';

describe("the headless agent's V8 settings", () => {
  it('keeps the young generation at its initial size and favours size over speed by default', () => {
    expect(agentV8Flags([])).toEqual(['--semi-space-growth-factor=1', '--optimize-for-size']);
  });

  it('yields to what the command line or NODE_OPTIONS says, in either spelling', () => {
    expect(agentV8Flags(['--max-semi-space-size=4'])).toEqual(['--optimize-for-size']);
    expect(agentV8Flags(['--max_semi_space_size=4'])).toEqual(['--optimize-for-size']);
    expect(agentV8Flags(['--no-optimize-for-size', '--semi-space-growth-factor=2'])).toEqual([]);
    expect(agentV8Flags(['--enable-source-maps', ''])).toHaveLength(2);
  });
});
