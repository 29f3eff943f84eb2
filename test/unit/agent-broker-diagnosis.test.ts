import { describe, expect, it } from 'vitest';
import { conciseError, diagnoseNeverConnected } from '../../src/agent/broker-diagnosis.js';

const TLS = { url: 'mqtts://broker.example.com:8883', ca: true, cert: true, username: false };
const PLAIN = { url: 'mqtt://broker.example.com', ca: false, cert: false, username: true };

describe('why an agent has never reached its broker', () => {
  it.each([
    [
      'EAI_AGAIN',
      'getaddrinfo EAI_AGAIN broker.example.com',
      TLS,
      ['mqtt.url'],
      /"broker.example.com" cannot be found/,
    ],
    ['ETIMEDOUT', 'connect ETIMEDOUT', TLS, ['mqtt.url'], /no answer from broker.example.com:8883/],
    [
      'ECONNREFUSED',
      'connect ECONNREFUSED',
      PLAIN,
      ['mqtt.url'],
      /broker.example.com:1883 \(wrong host or port/,
    ],
    [
      'CERT_HAS_EXPIRED',
      'certificate has expired',
      TLS,
      ['mqtt.ca'],
      /expired or not valid yet \(or this PC's clock/,
    ],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      TLS,
      ['mqtt.url'],
      /not made out to "broker.example.com"/,
    ],
    [
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'alert certificate required',
      TLS,
      ['mqtt.cert', 'mqtt.key'],
      /did not accept this store's client certificate/,
    ],
    [
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'tlsv1 alert unknown ca',
      TLS,
      ['mqtt.cert', 'mqtt.key'],
      /not issued by head office's CA/,
    ],
    ['5', 'Connection refused: Not authorized', TLS, ['mqtt.cert'], /does not authorise this store/],
    [
      '5',
      'Connection refused: Not authorized',
      PLAIN,
      ['mqtt.username', 'mqtt.password'],
      /does not authorise/,
    ],
    ['135', 'Not authorized', PLAIN, ['mqtt.username', 'mqtt.password'], /does not authorise/],
    ['ECONNRESET', 'read ECONNRESET', TLS, ['mqtt.url'], /closed the connection at once: is it a TLS port/],
    ['ECONNRESET', 'read ECONNRESET', PLAIN, ['mqtt.url'], /it may need TLS \(mqtts:\/\/\)/],
    [
      null,
      'the connection closed before the broker accepted it',
      PLAIN,
      ['mqtt.url'],
      /closed the connection at once/,
    ],
    [null, 'something nobody foresaw', PLAIN, ['mqtt.url'], /cannot be reached/],
  ])('%s (%s) points at the right setting', (code, message, settings, expected, explanation) => {
    const diagnosis = diagnoseNeverConnected(settings, { code, message });
    expect(diagnosis.settings).toEqual(expected);
    expect(diagnosis.explanation).toMatch(explanation);
  });

  it('keeps the reason of an OpenSSL message and leaves other messages alone', () => {
    expect(
      conciseError(
        '808C4694737F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116',
      ),
    ).toBe('tlsv13 alert certificate required');
    expect(conciseError('connect ECONNREFUSED 127.0.0.1:1883')).toBe('connect ECONNREFUSED 127.0.0.1:1883');
  });
});
