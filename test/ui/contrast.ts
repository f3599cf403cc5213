/**
 * A WCAG AA contrast check that runs inside the page: every visible piece of text against the background it is actually drawn on
 * (HTML: the nearest painted ancestor backgrounds, composited; SVG: the fill of the node shape behind it). Returns the failures.
 */
import type { Page } from 'playwright-core';

export interface ContrastFailure {
  text: string;
  ratio: number;
  required: number;
  color: string;
  background: string;
}

export function contrastFailures(page: Page): Promise<ContrastFailure[]> {
  return page.evaluate(() => {
    type Rgba = [number, number, number, number];
    const parse = (css: string): Rgba => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) return [0, 0, 0, 0];
      const parts = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
      return [parts[0]!, parts[1]!, parts[2]!, parts[3] ?? 1];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const a = top[3] + bottom[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const mix = (i: number) => (top[i]! * top[3] + bottom[i]! * bottom[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const luminance = ([r, g, b]: Rgba) => {
      const lin = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const ratio = (a: Rgba, b: Rgba) => {
      const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (l1! + 0.05) / (l2! + 0.05);
    };
    const backgroundOf = (element: Element): Rgba => {
      const layers: Rgba[] = [];
      for (let e: Element | null = element; e; e = e.parentElement) layers.push(parse(getComputedStyle(e).backgroundColor));
      return layers.reduceRight<Rgba>((below, layer) => over(layer, below), [255, 255, 255, 1]);
    };
    const failures: { text: string; ratio: number; required: number; color: string; background: string }[] = [];
    const check = (element: Element, text: string, fg: Rgba, bg: Rgba) => {
      const style = getComputedStyle(element);
      const size = parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const required = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      const r = ratio(over(fg, bg), bg);
      if (r < required) failures.push({ text: text.slice(0, 60), ratio: Math.round(r * 100) / 100, required, color: style.color, background: `rgb(${bg.slice(0, 3).join(',')})` });
    };
    for (const element of document.querySelectorAll('body *')) {
      const text = [...element.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent ?? '').join('').trim();
      if (!text || element.getClientRects().length === 0 || element.closest('[hidden]')) continue;
      if (element instanceof SVGElement) {
        const shape = element.closest('g')?.querySelector('.shape');
        if (!shape) continue;
        check(element, text, parse(getComputedStyle(element).fill), parse(getComputedStyle(shape).fill));
      } else {
        check(element, text, parse(getComputedStyle(element).color), backgroundOf(element));
      }
    }
    return failures;
  });
}
