import type { AppInfo } from '../../contracts/window-api.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';

export function describeUpdate(update: AppInfo['update'], now: string, format: Formatter): string {
  const words = text.about.update;
  switch (update.state) {
    case 'not-applicable':
      return words['not-applicable'];
    case 'disabled':
      return words.disabled[update.reason];
    case 'idle':
      return words.idle(update.channel);
    case 'checking':
      return words.checking;
    case 'up-to-date':
      return words['up-to-date'](format.clock(update.checkedAt, now));
    case 'downloading':
      return words.downloading(update.version, format.percent(update.percent / 100));
    case 'ready':
      return update.waitingFor === null
        ? words.ready(update.version)
        : words.readyWaiting(update.version, words.waitingFor[update.waitingFor]);
    case 'error':
      return words.error(update.message);
  }
}

/** The app version and where its update stands. */
export function AboutLine(props: { app: AppInfo; storeId: string; now: string; format: Formatter }) {
  const { app } = props;
  return (
    <footer class="about">
      <span>{text.about.version(app.version)}</span>
      <span>{text.about.store(props.storeId)}</span>
      <span class={app.update.state === 'error' ? 'about__update about__update--error' : 'about__update'}>
        {describeUpdate(app.update, props.now, props.format)}
      </span>
    </footer>
  );
}
