// Entry point of a sweep worker process (forked by workerPool): runs one task per message.
import { initBackend } from '../core/backend.js';
import { type Task, runTask } from './parallel.js';

const ready = initBackend();
process.on('disconnect', () => process.exit(0));
process.on('message', async (msg: { task: Task }) => {
  try {
    await ready;
    const result = await runTask(msg.task, (line) => console.log(line));
    process.send?.({ result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    process.send?.({ error: { message: err.message, stack: err.stack } });
  }
});
