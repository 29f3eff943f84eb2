import { describe, expect, it } from 'vitest';
import { buildStatusReport, type ConnectionView, type StatusInputs } from '../../src/agent/status-report.js';
import { agentStatusSchema } from '../../src/contracts/status.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const MINUTE = 60_000;

/** A healthy store: connected, nothing unsent, nothing dead. Each test changes what it is about. */
function inputs(change: Partial<StatusInputs> = {}, unsentAgeMs: number | null = null): StatusInputs {
  return {
    storeId: 'store-0042',
    version: '0.1.0',
    now: NOW,
    outbox: {
      epoch: 'e1',
      lastSeq: 120,
      unsent: {
        count: unsentAgeMs === null ? 0 : 3,
        oldestCapturedAt: unsentAgeMs === null ? null : NOW - unsentAgeMs,
        atRisk: unsentAgeMs === null ? [] : [{ currency: 'EUR', amount: 1827 }],
        records: 0,
      },
      lastAck: { seq: 117, at: NOW - 5000 },
      deadLetters: 0,
      total: 120,
    },
    captureError: null,
    connection: link(),
    broker: BROKER,
    logging: { state: 'ok', dir: '/var/lib/outpost/logs' },
    deadLetters: [],
    activePromotions: 2,
    ...change,
  };
}

const codes = (input: StatusInputs) => buildStatusReport(input).problems.map((p) => p.code);

/** A link to the broker in the given state; it has connected before unless told otherwise. */
function link(change: Partial<ConnectionView> = {}): ConnectionView {
  return {
    state: 'online',
    since: NOW - 60 * MINUTE,
    lastError: null,
    lastErrorCode: null,
    everConnected: true,
    ...change,
  };
}

const BROKER = { url: 'mqtts://broker.example.com:8883', ca: true, cert: true, username: false };

describe('status report', () => {
  it('reports a healthy, connected store with no problems, in the wire format', () => {
    const report = buildStatusReport(inputs());
    expect(agentStatusSchema.parse(report)).toEqual(report);
    expect(report.problems).toEqual([]);
    expect(report.capture).toEqual({ state: 'ok' });
    expect(report.now).toBe('2026-11-23T12:00:00.000Z');
    expect(report.connection.since).toBe('2026-11-23T11:00:00.000Z');
    expect(report.lastSeq).toBe(120);
    expect(report.lastAck).toEqual({ seq: 117, at: '2026-11-23T11:59:55.000Z' });
    expect(report.backlog).toEqual({ count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] });
    expect(report.promotions).toEqual({ active: 2 });
  });

  it('gives the backlog its age in seconds and the money at risk', () => {
    const report = buildStatusReport(inputs({}, 90_000));
    expect(report.backlog).toEqual({
      count: 3,
      oldestCapturedAt: '2026-11-23T11:58:30.000Z',
      oldestAgeSeconds: 90,
      atRisk: [{ currency: 'EUR', amount: 1827 }],
    });
  });

  it('never reports a negative age when the clock stepped back', () => {
    expect(buildStatusReport(inputs({}, -5000)).backlog.oldestAgeSeconds).toBe(0);
  });

  it('tells the manager, as critical, that tills cannot save sales when capture fails', () => {
    const report = buildStatusReport(inputs({ captureError: 'the disk holding the outbox is full' }));
    expect(report.capture).toEqual({ state: 'unavailable', message: 'the disk holding the outbox is full' });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ code: 'capture-unavailable', severity: 'critical' });
    expect(report.problems[0]?.message).toContain('the disk holding the outbox is full');
  });

  it('says offline is nothing to worry about while the backlog is young, and a warning after an hour', () => {
    const offline = {
      connection: link({ state: 'offline', since: NOW - 2 * 60 * MINUTE, lastError: 'x' }),
    };
    const young = buildStatusReport(inputs(offline, 10 * MINUTE)).problems;
    expect(young).toMatchObject([{ code: 'head-office-unreachable', severity: 'info' }]);
    // On the store's clock (UTC when no time zone is given), never as a raw timestamp.
    expect(young[0]?.message).toContain('Not connected to head office since 10:00.');
    expect(young[0]?.action).toMatch(/keep trading/);
    const old = buildStatusReport(inputs(offline, 61 * MINUTE)).problems;
    expect(old).toMatchObject([{ code: 'head-office-unreachable', severity: 'warning' }]);
  });

  it('flags sync as stalled only when connected and the oldest unsent sale is over 15 minutes old', () => {
    expect(codes(inputs({}, 15 * MINUTE))).toEqual([]);
    expect(codes(inputs({}, 16 * MINUTE))).toEqual(['sync-stalled']);
    expect(buildStatusReport(inputs({}, 16 * MINUTE)).problems[0]?.message).toContain('16 minutes');
    const offline = { connection: link({ state: 'offline', since: null }) };
    expect(codes(inputs(offline, 16 * MINUTE))).toEqual(['head-office-unreachable']);
  });

  it('reports transactions refused by head office as dead letters to call support about', () => {
    const base = inputs();
    const report = buildStatusReport({ ...base, outbox: { ...base.outbox, deadLetters: 2 } });
    expect(report.deadLetters.count).toBe(2);
    expect(report.problems).toMatchObject([{ code: 'dead-letters', severity: 'warning' }]);
    expect(report.problems[0]?.message).toMatch(/^2 transaction/);
  });

  it('tells the manager to call support when the broker refuses the store data while connected', () => {
    const refused = inputs({
      connection: link({ since: NOW, lastError: 'the broker refused a batch: Not authorized' }),
    });
    expect(codes(refused)).toEqual(['sync-refused']);
    expect(buildStatusReport(refused).problems[0]!.message).toContain('Not authorized');
  });

  it('reports the log files as written, and "off" for an agent that writes none', () => {
    expect(buildStatusReport(inputs()).logging).toEqual({
      state: 'ok',
      dir: '/var/lib/outpost/logs',
      since: null,
      error: null,
      droppedLines: 0,
    });
    expect(buildStatusReport(inputs({ logging: undefined })).logging).toMatchObject({ state: 'off' });
  });

  it('says, as a warning, that the log file cannot be written on a full disk while sales are still saved', () => {
    const report = buildStatusReport(
      inputs({
        logging: {
          state: 'failing',
          dir: '/var/lib/outpost/logs',
          reason: 'disk-full',
          error: 'ENOSPC: no space left on device, write',
          since: NOW - MINUTE,
          droppedLines: 42,
        },
      }),
    );
    expect(agentStatusSchema.parse(report)).toEqual(report);
    expect(report.logging).toEqual({
      state: 'failing',
      dir: '/var/lib/outpost/logs',
      since: '2026-11-23T11:59:00.000Z',
      error: 'ENOSPC: no space left on device, write',
      droppedLines: 42,
    });
    expect(report.problems).toEqual([
      {
        code: 'log-file-unwritable',
        severity: 'warning',
        message: 'The log file cannot be written (disk full); sales are still being saved.',
        action:
          'Free disk space on this PC (the logs are in /var/lib/outpost/logs) or call support. Logging resumes by itself.',
        params: { reason: 'disk-full', dir: '/var/lib/outpost/logs' },
      },
    ]);
    // Capture is not affected: the till's view stays "ok".
    expect(report.capture).toEqual({ state: 'ok' });
  });

  it('asks for write access to the log folder when it is not writable', () => {
    const problems = buildStatusReport(
      inputs({
        logging: {
          state: 'failing',
          dir: '/var/lib/outpost/logs',
          reason: 'not-writable',
          error: 'EACCES: permission denied',
          since: NOW,
          droppedLines: 0,
        },
      }),
    ).problems;
    expect(problems[0]!.message).toBe(
      'The log file cannot be written (the log folder is not writable); sales are still being saved.',
    );
    expect(problems[0]!.action).toContain('write access to /var/lib/outpost/logs');
  });

  describe('before the broker has ever accepted the store', () => {
    const never = (lastError: string | null, lastErrorCode: string | null, broker = BROKER) =>
      inputs({
        broker,
        connection: link({
          state: 'offline',
          since: NOW - MINUTE,
          lastError,
          lastErrorCode,
          everConnected: false,
        }),
      });

    it.each([
      [
        'ENOTFOUND',
        'getaddrinfo ENOTFOUND broker.example.com',
        BROKER,
        'mqtt.url',
        'host name "broker.example.com" cannot be found',
      ],
      [
        'ECONNREFUSED',
        'connect ECONNREFUSED 10.0.0.5:8883',
        BROKER,
        'mqtt.url',
        'nothing accepts connections at broker.example.com:8883',
      ],
      [
        'SELF_SIGNED_CERT_IN_CHAIN',
        'self-signed certificate in certificate chain',
        BROKER,
        'mqtt.ca',
        'not signed by the CA in the mqtt.ca file',
      ],
      [
        'SELF_SIGNED_CERT_IN_CHAIN',
        'self-signed certificate in certificate chain',
        { ...BROKER, ca: false },
        'mqtt.ca',
        'mqtt.ca must name',
      ],
      [
        'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        '808C:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/x.c:1601:',
        { ...BROKER, cert: false },
        'mqtt.cert and mqtt.key',
        'requires a client certificate',
      ],
      [
        '4',
        'Connection refused: Bad username or password',
        { ...BROKER, url: 'mqtt://broker:1883', ca: false, cert: false, username: true },
        'mqtt.username and mqtt.password',
        'user name or password',
      ],
    ])(
      'names the setting to check for %s, with the error seen',
      (code, error, broker, setting, explanation) => {
        const report = buildStatusReport(never(error, code, broker));
        expect(report.connection.everConnected).toBe(false);
        expect(report.problems).toHaveLength(1);
        const problem = report.problems[0]!;
        expect(problem).toMatchObject({ code: 'broker-never-reached', severity: 'critical' });
        expect(problem.message).toContain('the broker address or certificates look wrong');
        expect(problem.message).toContain(`(${setting})`);
        expect(problem.message).toContain(explanation);
        expect(problem.action).toContain(`Check ${setting} in the agent's config file`);
        expect(problem.message + problem.action).not.toMatch(/keep trading/i);
      },
    );

    it('quotes the reason of an OpenSSL error, not its address and source file', () => {
      const problem = buildStatusReport(
        never(
          '808C4694737F0000:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 48',
          'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
        ),
      ).problems[0]!;
      expect(problem.message).toContain('Error: tlsv1 alert unknown ca.');
      expect(problem.message).not.toContain('deps/openssl');
    });

    it('says nothing of settings while the first attempt is still under way', () => {
      expect(codes(never(null, null))).toEqual(['head-office-unreachable']);
    });

    it('goes back to "keep trading" for the same error once the broker has accepted the store before', () => {
      const input = never('connect ECONNREFUSED 10.0.0.5:8883', 'ECONNREFUSED');
      const seenBefore = { ...input, connection: { ...input.connection, everConnected: true } };
      expect(codes(seenBefore)).toEqual(['head-office-unreachable']);
      expect(buildStatusReport(seenBefore).problems[0]!.action).toMatch(/keep trading/);
    });
  });
});
