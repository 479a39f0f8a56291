import { createRoot } from 'react-dom/client';
import { App } from './ui/app';

createRoot(document.getElementById('root')!).render(<App />);
