import '../ui/base.css';
import './styles.css';
import { render } from 'preact';
import { createConsoleClient } from './api/console-client.js';
import { App } from './app.js';
import { text } from './text.js';

document.title = text.documentTitle;
const root = document.getElementById('app');
if (root)
  render(
    <App client={createConsoleClient({ baseUrl: location.origin })} locale={navigator.language} />,
    root,
  );
