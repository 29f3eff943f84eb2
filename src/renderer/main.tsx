import 'uplot/dist/uPlot.min.css';
import '../ui/base.css';
import './styles.css';
import { render } from 'preact';
import { chooseWindowApi } from './api/choose-window-api.js';
import { App } from './app.js';
import { text } from './text.js';

document.title = text.documentTitle;
const root = document.getElementById('app');
if (root) render(<App api={chooseWindowApi(window)} locale={navigator.language} />, root);
