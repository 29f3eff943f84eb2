import { describe, expect, it } from 'vitest';
import { describeListenFailure } from '../../src/agent/listen-failure.js';
import { ConfigError } from '../../src/lib/errors.js';

const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });
const api = { host: '0.0.0.0', port: 8787 };

describe('why the capture API could not listen', () => {
  it('says a taken port is in use, with the port and host, and what to do', () => {
    const error = describeListenFailure(errno('EADDRINUSE'), api);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe(
      'api.port 8787 is in use on 0.0.0.0: another program (perhaps another Outpost agent) listens there. ' +
        'Stop it, or set api.port to a free port.',
    );
  });

  it('says a low port needs administrator rights', () => {
    expect(describeListenFailure(errno('EACCES'), { host: '0.0.0.0', port: 80 })?.message).toBe(
      'api.port 80 on 0.0.0.0 needs administrator rights (ports below 1024): set api.port to 1024 or above, e.g. 8787.',
    );
  });

  it('says an api.host that is not an address of this PC is not one', () => {
    expect(describeListenFailure(errno('EADDRNOTAVAIL'), { host: '192.0.2.1', port: 8787 })?.message).toMatch(
      /^api\.host 192\.0\.2\.1 is not an address of this PC: use 0\.0\.0\.0/,
    );
    expect(describeListenFailure(errno('ENOTFOUND'), { host: 'till-server', port: 8787 })?.message).toMatch(
      /^api\.host till-server cannot be resolved/,
    );
  });

  it('names the variable when one set the field', () => {
    const fieldName = (path: string) => (path === 'api.port' ? 'api.port (set by OUTPOST_API__PORT)' : path);
    expect(describeListenFailure(errno('EADDRINUSE'), api, fieldName)?.message).toMatch(
      /^api\.port \(set by OUTPOST_API__PORT\) 8787 is in use on 0\.0\.0\.0: .* set api\.port \(set by OUTPOST_API__PORT\) to a free port\.$/,
    );
  });

  it('leaves errors that are not about the address to the caller', () => {
    expect(describeListenFailure(errno('EMFILE'), api)).toBeUndefined();
    expect(describeListenFailure(new Error('other'), api)).toBeUndefined();
  });
});
