/** Float64 forward passes of the library's builders, written from the papers' formulas. */
import { type P64, type Vec, act, dense, softmax64 } from './oracle64.js';

export type Forward64 = (p: P64, x: Vec) => Vec;

/** 002 eq. 63 with explicit per-layer multipliers; acts per hidden layer; output linear. */
export function fcn64(widths: number[], acts: string[], scales: number[], bias = false): Forward64 {
  return (p, x) => {
    let a = x;
    for (let l = 0; l < widths.length - 1; l++) {
      const z = dense(p[`W${l + 1}`].data, widths[l + 1], a, scales[l], bias ? p[`b${l + 1}`].data : undefined);
      a = l < widths.length - 2 ? z.map(act(acts[l])) : z;
    }
    return a;
  };
}

export function withOutput64(base: Forward64, phi: string): Forward64 {
  return (p, x) => {
    const f = base(p, x);
    return phi === 'softmax' ? softmax64(f) : f.map(act(phi));
  };
}

/** 002 eq. 97. */
export function resnet64(d: number, m: number, depth: number, outputs: number, phi: string): Forward64 {
  return (p, x) => {
    let a = dense(p.W1.data, m, x, 1 / Math.sqrt(d)).map(act(phi));
    for (let l = 2; l <= depth; l++) {
      const h = dense(p[`W${l}`].data, m, a, 1 / Math.sqrt(m)).map(act(phi));
      a = h.map((v, i) => v + a[i]);
    }
    return dense(p.v.data, outputs, a, 1 / Math.sqrt(m));
  };
}

/** 001 Def 2.2 on a DenseNet with masks given per group (1 = kept edge). */
export function dense64(sizes: number[], phi: string, masks: (Float64Array | null)[]): Forward64 {
  return (p, x) => {
    const groups: Vec[] = [x];
    for (let g = 0; g < sizes.length - 1; g++) {
      const a = groups.flat();
      const mask = masks[g];
      const out = sizes[g + 1];
      const rowScale = Array.from({ length: out }, (_, v) => {
        let k = 0;
        for (let u = 0; u < a.length; u++) k += mask ? mask[v * a.length + u] : 1;
        return k > 0 ? 1 / Math.sqrt(k) : 0;
      });
      const z = dense(p[`W${g + 1}`].data, out, a, 1, undefined, 1, mask ?? undefined, rowScale);
      groups.push(g < sizes.length - 2 ? z.map(act(phi)) : z);
    }
    return groups[groups.length - 1];
  };
}

/** 'same' stride-1 convolutions (NHWC, kernel [s, s, cin, cout]) with 1/sqrt(cin s^2), then a dense head. */
export function conv64(h: number, w: number, c0: number, channels: number[], s: number, outputs: number, phi: string): Forward64 {
  return (p, x) => {
    let a = x;
    let cin = c0;
    channels.forEach((cout, l) => {
      const K = p[`K${l + 1}`].data;
      const out: Vec = new Array(h * w * cout).fill(0);
      const off = (s - 1) / 2;
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          for (let o = 0; o < cout; o++) {
            let acc = 0;
            for (let di = 0; di < s; di++)
              for (let dj = 0; dj < s; dj++) {
                const ii = i + di - off;
                const jj = j + dj - off;
                if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
                for (let c = 0; c < cin; c++) acc += K[((di * s + dj) * cin + c) * cout + o] * a[(ii * w + jj) * cin + c];
              }
            out[(i * w + j) * cout + o] = act(phi)(acc / Math.sqrt(cin * s * s));
          }
      a = out;
      cin = cout;
    });
    return dense(p.W_out.data, outputs, a, 1 / Math.sqrt(a.length));
  };
}
