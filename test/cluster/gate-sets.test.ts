/**
 * The sets the cluster gate applies: every overlay with every combination of the components it lacks, each in a namespace of
 * its own. Rendering is kustomize alone, so this runs wherever the manifests tests do, without the API server.
 */
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderedSets, selections } from '../../scripts/verify-cluster/render';
import { ROOT, kustomizeCommand } from './manifests';

describe('the combinations the cluster gate composes', () => {
  test('all is every subset once, as shipped first and everything last; each is shipped, each alone, all', () => {
    const all = selections(['a', 'b', 'c'], 'all');
    expect(all.map((s) => s.join(''))).toEqual(['', 'a', 'b', 'c', 'ab', 'ac', 'bc', 'abc']);
    expect(selections(['a', 'b', 'c'], 'each').map((s) => s.join(''))).toEqual(['', 'a', 'b', 'c', 'abc']);
    expect(selections(['a', 'b', 'c'], 'shipped')).toEqual([[]]);
    expect(selections(['a'], 'each')).toEqual([[], ['a']]);
  });

  test('every overlay meets every subset of the components it lacks, each set in a namespace of its own', () => {
    const work = mkdtempSync(join(tmpdir(), 'gate-sets-'));
    try {
      const sets = renderedSets(ROOT, kustomizeCommand(), work);
      for (const overlay of ['kind', 'gke']) {
        const of = sets.filter((s) => s.overlay === overlay);
        const optional = new Set(of.flatMap((s) => s.components));
        expect(optional.size).toBeGreaterThanOrEqual(4);
        expect(of).toHaveLength(2 ** optional.size);
        expect(new Set(of.map((s) => [...s.components].sort().join(' '))).size).toBe(of.length);
        expect(of.filter((s) => s.shipped).map((s) => s.components)).toEqual([[]]);
      }
      const namespaces = sets.map((s) => s.namespace);
      expect(new Set(namespaces).size).toBe(sets.length);
      for (const ns of namespaces) expect(ns).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      for (const set of sets) expect(set.objects.length).toBeGreaterThan(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
