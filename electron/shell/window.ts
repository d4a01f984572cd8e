/**
 * The window's security settings and the guards on its web contents, as plain data and functions over
 * structural types, so they run (and are tested) without Electron.
 */
export function windowOptions(preload: string) {
  return {
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'EDC Sync',
    backgroundColor: '#ffffff',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: process.env.EDC_SYNC_DEVTOOLS === '1',
    },
  } as const;
}

export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (e: { preventDefault(): void }, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (e: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * The page may not go anywhere: no navigation or redirect away from the app's own page, no new windows, no
 * webviews. (Links to http(s) pages are not part of the app; nothing is opened in a browser either.)
 */
export function hardenContents(contents: WebContentsLike, appUrl: string, log: (line: string) => void = () => {}): void {
  const guard = (e: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(appUrl, url)) {
      e.preventDefault();
      log(`blocked navigation to ${url}`);
    }
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked new window for ${url}`);
    return { action: 'deny' };
  });
}

/** A sender is trusted when its frame shows the app's own page. */
export function isAppUrl(appUrl: string, url: string | undefined): boolean {
  return url !== undefined && url.split('#')[0] === appUrl.split('#')[0];
}
