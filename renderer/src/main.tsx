import '@mantine/core/styles.css';
import './app.css';
import { MantineProvider, createTheme } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './i18n.tsx';
import { App } from './App.tsx';

const theme = createTheme({
  primaryColor: 'teal',
  // Shade 9 of every color: white text on it and it on white both pass WCAG AA contrast (axe checks in e2e).
  primaryShade: 9,
  autoContrast: true,
  respectReducedMotion: true,
  defaultRadius: 'md',
  fontSizes: { md: '1.05rem' },
  // Large targets: the app is used on field laptops, often with a scanner and a keyboard only.
  components: { Button: { defaultProps: { size: 'md' } }, TextInput: { defaultProps: { size: 'md' } }, Select: { defaultProps: { size: 'md' } } },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <App />
    </MantineProvider>
  </StrictMode>,
);
