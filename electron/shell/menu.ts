/** The application menu as plain data (Electron's MenuItemConstructorOptions shape), built without Electron. */
export interface MenuActions {
  openDataFolder(): void;
  openLogFolder(): void;
  reload(): void;
  toggleDevTools(): void;
  about(): void;
}

export interface MenuItem {
  label?: string;
  role?: 'quit' | 'copy' | 'paste' | 'cut' | 'selectAll' | 'undo' | 'redo' | 'togglefullscreen' | 'resetZoom' | 'zoomIn' | 'zoomOut';
  type?: 'separator';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuItem[];
}

export function menuTemplate(a: MenuActions, opts: { devTools: boolean }): MenuItem[] {
  return [
    { label: 'File', submenu: [
      { label: 'Open data folder', click: a.openDataFolder },
      { label: 'Open log folder', click: a.openLogFolder },
      { type: 'separator' },
      { role: 'quit' },
    ] },
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    { label: 'View', submenu: [
      { label: 'Reload', accelerator: 'CmdOrCtrl+R', click: a.reload },
      ...(opts.devTools ? [{ label: 'Developer tools', accelerator: 'CmdOrCtrl+Shift+I', click: a.toggleDevTools }] : []),
      { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { role: 'togglefullscreen' },
    ] },
    { label: 'Help', submenu: [{ label: 'About EDC Sync', click: a.about }] },
  ];
}
