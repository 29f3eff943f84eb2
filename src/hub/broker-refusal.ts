/**
 * A hub with a share group speaks MQTT 5 (shared subscriptions are an MQTT 5 feature). A broker that
 * does not (the embedded Aedes broker, an old Mosquitto) refuses the connection: "unacceptable protocol
 * version" (MQTT 3.1.1 CONNACK code 1), "unsupported protocol version" (MQTT 5 reason code 132) or a
 * protocol error (130). Retrying cannot help; the configuration has to change.
 */
export function refusesMqtt5(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return (
    code === 1 ||
    code === 130 ||
    code === 132 ||
    /unacceptable protocol version|unsupported protocol version|protocol error/i.test(message)
  );
}

/** What to tell the technician, in the log and in /healthz. */
export function shareGroupAdvice(url: string, shareGroup: string, error: unknown): string {
  const said = error instanceof Error ? error.message : String(error);
  let shown = url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    shown = parsed.toString();
  } catch {
    // Not a URL mqtt.js would have connected to; shown as configured.
  }
  return (
    `the broker at ${shown} refused MQTT 5 (${said}), which mqtt.shareGroup "${shareGroup}" needs: ` +
    'set mqtt.shareGroup to false in hub.json (a single hub subscribing directly, e.g. on the embedded broker), ' +
    'or use a broker with MQTT 5 shared subscriptions (Mosquitto 2, EMQX, HiveMQ)'
  );
}
