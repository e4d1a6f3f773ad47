// The informer cache: objects by key, plus secondary indexes (client-go's cache.Store,
// cache.Indexer and threadSafeMap, minus the locking that a single-threaded runtime does not need).
import { deepFreeze } from "./deep-freeze.js";
import type { Indexers, IndexFunc } from "./index-funcs.js";
import { type KeyFunc, metaNamespaceKeyFunc } from "./key-func.js";
import type { CacheObject } from "./object.js";

/**
 * A keyed set of objects. Objects handed in become the store's: the caller must not mutate them
 * afterwards. Objects handed out are shared with every other reader and must never be mutated;
 * clone before changing (protobuf-es `clone(Schema, obj)`). Returned arrays are fresh and the
 * caller's to keep.
 */
export interface Store<T extends CacheObject> {
  /** Inserts or replaces the object under its key. */
  add(obj: T): void;
  /** Same as add: the store keeps the latest state under each key. */
  update(obj: T): void;
  /** Removes the object with obj's key; a no-op when absent. */
  delete(obj: T): void;
  /** Makes the store hold exactly `items` (a relist); `resourceVersion` is the list's. */
  replace(items: readonly T[], resourceVersion: string): void;
  list(): T[];
  listKeys(): string[];
  /** The stored object with obj's key. */
  get(obj: T): T | undefined;
  getByKey(key: string): T | undefined;
}

/** A Store with secondary indexes (client-go's cache.Indexer). */
export interface Indexer<T extends CacheObject> extends Store<T> {
  /** Objects that share an index value with `obj` under `indexName`. */
  index(indexName: string, obj: T): T[];
  /** Keys of the objects filed under `indexedValue` in `indexName`. */
  indexKeys(indexName: string, indexedValue: string): string[];
  /** Every value that `indexName` currently files objects under. */
  listIndexFuncValues(indexName: string): string[];
  /** Objects filed under `indexedValue` in `indexName` (e.g. byIndex("namespace", "default")). */
  byIndex(indexName: string, indexedValue: string): T[];
  getIndexers(): Indexers<T>;
  /**
   * Adds index functions; existing objects are indexed at once. Throws if a name is already
   * registered (index functions cannot be swapped under readers).
   */
  addIndexers(indexers: Indexers<T>): void;
}

export interface IndexerOptions<T extends CacheObject> {
  keyFunc?: KeyFunc<T>;
  indexers?: Indexers<T>;
  /**
   * Deep-freeze objects as they enter the store, so a handler that mutates a cached object gets
   * a TypeError at the mutation instead of corrupting every other reader's view. Default true:
   * the walk costs about as much as decoding the object did, and the bug it catches is silent
   * otherwise. Pass false only for objects that cannot be frozen.
   */
  freezeObjects?: boolean;
}

/** Creates an in-memory Indexer keyed by `keyFunc` (default metaNamespaceKeyFunc). */
export function createIndexer<T extends CacheObject>(options: IndexerOptions<T> = {}): Indexer<T> {
  return new CacheIndexer(options);
}

class CacheIndexer<T extends CacheObject> implements Indexer<T> {
  private readonly keyFunc: KeyFunc<T>;
  private readonly freezeObjects: boolean;
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name -> indexed value -> keys filed there. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(options: IndexerOptions<T>) {
    this.keyFunc = options.keyFunc ?? metaNamespaceKeyFunc;
    this.freezeObjects = options.freezeObjects ?? true;
    if (options.indexers !== undefined) this.addIndexers(options.indexers);
  }

  add(obj: T): void {
    const key = this.keyFunc(obj);
    const stored = this.freezeObjects ? deepFreeze(obj) : obj;
    const old = this.items.get(key);
    this.items.set(key, stored);
    this.updateIndices(old, stored, key);
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    this.deleteByKey(this.keyFunc(obj));
  }

  replace(items: readonly T[], _resourceVersion: string): void {
    this.items.clear();
    for (const index of this.indices.values()) index.clear();
    for (const obj of items) this.add(obj);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  index(indexName: string, obj: T): T[] {
    const indexFunc = this.indexFunc(indexName);
    const index = this.indices.get(indexName);
    const keys = new Set<string>();
    for (const value of indexFunc(obj)) {
      for (const key of index?.get(value) ?? []) keys.add(key);
    }
    return this.objectsFor(keys);
  }

  indexKeys(indexName: string, indexedValue: string): string[] {
    this.indexFunc(indexName);
    return [...(this.indices.get(indexName)?.get(indexedValue) ?? [])];
  }

  listIndexFuncValues(indexName: string): string[] {
    this.indexFunc(indexName);
    return [...(this.indices.get(indexName)?.keys() ?? [])];
  }

  byIndex(indexName: string, indexedValue: string): T[] {
    this.indexFunc(indexName);
    return this.objectsFor(this.indices.get(indexName)?.get(indexedValue) ?? []);
  }

  getIndexers(): Indexers<T> {
    return Object.freeze(Object.fromEntries(this.indexers));
  }

  addIndexers(indexers: Indexers<T>): void {
    for (const name of Object.keys(indexers)) {
      if (this.indexers.has(name)) {
        throw new Error(`indexer ${JSON.stringify(name)} is already registered; pick another name`);
      }
    }
    for (const [name, indexFunc] of Object.entries(indexers)) {
      this.indexers.set(name, indexFunc);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) fileUnder(index, indexFunc(obj), key);
    }
  }

  private deleteByKey(key: string): void {
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.updateIndices(old, undefined, key);
  }

  private updateIndices(old: T | undefined, next: T | undefined, key: string): void {
    for (const [name, indexFunc] of this.indexers) {
      const index = this.indices.get(name);
      if (index === undefined) continue;
      if (old !== undefined) removeFrom(index, indexFunc(old), key);
      if (next !== undefined) fileUnder(index, indexFunc(next), key);
    }
  }

  private indexFunc(indexName: string): IndexFunc<T> {
    const indexFunc = this.indexers.get(indexName);
    if (indexFunc === undefined) {
      const known = [...this.indexers.keys()].join(", ") || "none";
      throw new Error(
        `index ${JSON.stringify(indexName)} does not exist (registered: ${known}); add it with addIndexers`,
      );
    }
    return indexFunc;
  }

  private objectsFor(keys: Iterable<string>): T[] {
    const result: T[] = [];
    for (const key of keys) {
      const obj = this.items.get(key);
      if (obj !== undefined) result.push(obj);
    }
    return result;
  }
}

function fileUnder(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (keys === undefined) {
      keys = new Set();
      index.set(value, keys);
    }
    keys.add(key);
  }
}

function removeFrom(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    const keys = index.get(value);
    if (keys === undefined) continue;
    keys.delete(key);
    // Drop empty sets so listIndexFuncValues reports only values that still hold objects.
    if (keys.size === 0) index.delete(value);
  }
}
