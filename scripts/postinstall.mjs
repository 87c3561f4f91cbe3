// npm install / npm ci hook of the project itself: makes the library importable by its package name.
import { ensureSelfLink } from './project.mjs';

ensureSelfLink();
