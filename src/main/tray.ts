import { Menu, nativeImage, Tray, type NativeImage } from 'electron';
import { drawStatusDot, encodePng } from './icon-image.js';
import { shellText } from './shell-text.js';
import { TRAY_COLOURS, type TrayState } from './tray-state.js';

export interface TrayActions {
  open(): void;
  checkForUpdates(): void;
  installUpdate(): void;
  quit(): void;
}

/** The dot in each state's colour, at 1×, 1.5× and 2× for the PC's display scaling. */
function trayImage(state: TrayState): NativeImage {
  const image = nativeImage.createEmpty();
  for (const [scaleFactor, size] of [
    [1, 16],
    [1.5, 24],
    [2, 32],
  ] as const) {
    image.addRepresentation({
      scaleFactor,
      width: size,
      height: size,
      buffer: encodePng(drawStatusDot(size, TRAY_COLOURS[state])),
    });
  }
  return image;
}

/**
 * The tray icon: its colour is the store's state, its menu opens the window, offers a ready update and
 * quits. A click opens the window, the one thing a manager wants from it.
 */
export class StatusTray {
  private readonly tray: Tray;
  private readonly images = new Map<TrayState, NativeImage>();
  private state: TrayState = 'unknown';
  private updateVersion: string | null = null;

  constructor(private readonly actions: TrayActions) {
    this.tray = new Tray(this.image('unknown'));
    this.tray.on('click', () => actions.open());
    this.render();
  }

  setState(state: TrayState): void {
    if (state === this.state) return;
    this.state = state;
    this.tray.setImage(this.image(state));
    this.render();
  }

  /** Offers "Install update … now" while a downloaded update waits. */
  setUpdateReady(version: string | null): void {
    if (version === this.updateVersion) return;
    this.updateVersion = version;
    this.render();
  }

  destroy(): void {
    this.tray.destroy();
  }

  private image(state: TrayState): NativeImage {
    let image = this.images.get(state);
    if (!image) {
      image = trayImage(state);
      this.images.set(state, image);
    }
    return image;
  }

  private render(): void {
    const words = shellText.tray;
    this.tray.setToolTip(words.tooltip[this.state]);
    this.tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: words.open, click: () => this.actions.open() },
        { type: 'separator' },
        { label: words.checkForUpdates, click: () => this.actions.checkForUpdates() },
        ...(this.updateVersion
          ? [{ label: words.installUpdate(this.updateVersion), click: () => this.actions.installUpdate() }]
          : []),
        { type: 'separator' },
        { label: words.quit, click: () => this.actions.quit() },
      ]),
    );
  }
}
