/**
 * Why a store agent that has never reached its broker cannot, in terms of the settings that fix it. Until
 * the first successful connection, an error is far more likely a wrong address, port or certificate than
 * an outage, and waiting will not fix it. Pure: a table from the error seen to the setting to check.
 */

export interface BrokerSettings {
  /** mqtt.url as configured, e.g. mqtts://broker.example.com:8883. */
  url: string;
  ca: boolean;
  cert: boolean;
  username: boolean;
}

export interface NeverConnectedDiagnosis {
  /** The settings to check, first the likeliest, e.g. ['mqtt.url'] or ['mqtt.cert', 'mqtt.key']. */
  settings: string[];
  /** What seems wrong, in plain words, without the setting names. */
  explanation: string;
}

const NAME_NOT_FOUND = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const NO_ANSWER = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
const CLOSED_AT_ONCE = new Set(['ECONNRESET', 'EPROTO', 'EPIPE', 'ERR_SSL_WRONG_VERSION_NUMBER']);
/** The broker's certificate is not signed by a CA this agent trusts. */
const UNTRUSTED_BROKER = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);
const BROKER_CERT_DATES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

function hostAndPort(url: string): string {
  try {
    const parsed = new URL(url);
    const port =
      parsed.port || (parsed.protocol === 'mqtts:' || parsed.protocol === 'tls:' ? '8883' : '1883');
    return `${parsed.hostname}:${port}`;
  } catch {
    return url;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** Diagnoses the last connection error of a link that has never been up. */
export function diagnoseNeverConnected(
  settings: BrokerSettings,
  error: { message: string; code: string | null },
): NeverConnectedDiagnosis {
  const code = error.code ?? '';
  const message = error.message;
  const tls = /^(mqtts|tls|wss):/.test(settings.url);
  if (NAME_NOT_FOUND.has(code))
    return {
      settings: ['mqtt.url'],
      explanation: `the broker's host name "${hostOf(settings.url)}" cannot be found`,
    };
  if (code === 'ECONNREFUSED')
    return {
      settings: ['mqtt.url'],
      explanation: `nothing accepts connections at ${hostAndPort(settings.url)} (wrong host or port, or the broker is not running)`,
    };
  if (NO_ANSWER.has(code))
    return { settings: ['mqtt.url'], explanation: `no answer from ${hostAndPort(settings.url)}` };
  if (UNTRUSTED_BROKER.has(code))
    return settings.ca
      ? {
          settings: ['mqtt.ca'],
          explanation: "the broker's certificate is not signed by the CA in the mqtt.ca file",
        }
      : {
          settings: ['mqtt.ca'],
          explanation: "the broker's certificate is not trusted: mqtt.ca must name head office's CA file",
        };
  if (BROKER_CERT_DATES.has(code))
    return {
      settings: ['mqtt.ca'],
      explanation: "the broker's certificate is expired or not valid yet (or this PC's clock is wrong)",
    };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return {
      settings: ['mqtt.url'],
      explanation: `the broker's certificate is not made out to "${hostOf(settings.url)}": use the host name on the certificate`,
    };
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE/.test(code))
    return {
      settings: ['mqtt.cert', 'mqtt.key'],
      explanation: settings.cert
        ? "the broker did not accept this store's client certificate"
        : 'the broker requires a client certificate, and none is configured',
    };
  if (
    /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|DECRYPT_ERROR)/.test(
      code,
    )
  )
    return {
      settings: ['mqtt.cert', 'mqtt.key'],
      explanation:
        "the broker refuses this store's client certificate (not issued by head office's CA, or expired)",
    };
  // MQTT CONNACK refusals: 4 (3.1.1) / 134 (5) bad user name or password, 5 / 135 not authorised.
  if (code === '4' || code === '134' || /bad user ?name or password/i.test(message))
    return {
      settings: ['mqtt.username', 'mqtt.password'],
      explanation: 'the broker refuses the user name or password',
    };
  if (code === '5' || code === '135' || /not authori[sz]ed/i.test(message))
    return {
      settings: settings.cert ? ['mqtt.cert'] : ['mqtt.username', 'mqtt.password'],
      explanation: 'the broker does not authorise this store to connect',
    };
  if (CLOSED_AT_ONCE.has(code) || /wrong version number|closed before the broker accepted/.test(message))
    return {
      settings: ['mqtt.url'],
      explanation: tls
        ? `the broker at ${hostAndPort(settings.url)} closed the connection at once: is it a TLS port (mqtts://)?`
        : `the broker at ${hostAndPort(settings.url)} closed the connection at once: it may need TLS (mqtts://) or another port`,
    };
  if (/certificate|ssl|tls/i.test(`${code} ${message}`))
    return {
      settings: tls ? ['mqtt.ca', 'mqtt.cert', 'mqtt.key'] : ['mqtt.url'],
      explanation: 'the secure connection to the broker failed',
    };
  return { settings: ['mqtt.url'], explanation: 'the broker cannot be reached' };
}

/**
 * OpenSSL's messages carry an address and a source path ("808C…:error:0A00045C:SSL routines:
 * ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/…"): keep the reason.
 */
export function conciseError(message: string): string {
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
  return openssl ? openssl[1]!.trim() : message;
}
