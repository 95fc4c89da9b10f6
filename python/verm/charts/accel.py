"""Exact caches for matplotlib work that chart jobs repeat, installed in the warm template.

Only results that are pure functions of inputs listed in the cache key are cached, so a job's
image is byte-identical to what stock matplotlib draws (``tests/test_chart_pool.py`` checks 100
programs against a clean interpreter). Each job runs in a fork of the template: entries a job
adds vanish with it, and nothing a job does can reach the next one.

- :func:`install_layout_cache`: ``Text._get_layout`` (line splitting, font metrics, alignment,
  rotation -- a fifth of a typical chart's time) is recomputed by matplotlib every time a text
  is drawn or measured, for every renderer anew (tick labels are measured many times per draw:
  ticks, tight layout, title placement, legends). For the Agg renderer the layout depends only
  on the text, the font properties and what resolves them to font files (rcParams, the font
  manager), the size, the two dpis, the hinting/kerning settings and the alignment, rotation and
  spacing, which form the key. matplotlib's per-renderer metrics cache is reproduced exactly
  alongside, so sequences where it answers with old metrics still get matplotlib's answers.
- :func:`install_font_lookup_cache`: ``FontManager._find_fonts_by_props`` (font files for a
  text's properties, ~200 calls per chart, each copying the properties once per family in the
  fallback list) keyed on everything matplotlib's own ``findfont`` cache keys on.
"""

from __future__ import annotations

__all__ = ["install_font_lookup_cache", "install_layout_cache", "keep_layout_entries", "layout_cache"]

#: (key -> (bbox points, per-line info, box)); see install_layout_cache.
layout_cache: dict = {}
_MAX_ENTRIES = 50_000
_RC_KEYS = ("text.hinting", "text.hinting_factor", "text.kerning_factor", "font.enable_last_resort")
_FONT_RC = tuple(f"font.{k}" for k in (
    "family", "style", "variant", "weight", "stretch", "size", "serif", "sans-serif", "cursive",
    "fantasy", "monospace"))


def install_layout_cache() -> None:
    """Wrap ``matplotlib.text.Text._get_layout`` with an exact, process-wide cache (Agg only).

    The key: the text, the font properties' whole state, the figure's dpi, the spacing,
    alignment and rotation, and an *environment* tuple -- the renderer's dpi and everything font
    resolution and metrics read outside those (the ``font.*``, hinting and kerning rcParams, the
    font manager's lists, ``MPL_IGNORE_SYSTEM_FONTS``).

    matplotlib also keeps a per-renderer cache of text metrics keyed without that environment
    (a renderer that measured a text keeps its metrics after, say, ``font.sans-serif``
    changed). To give exactly matplotlib's answers, that cache is reproduced here (same keys,
    same LRU size; :func:`_install_metrics_store`), each cached layout remembers the metrics it
    used, and a hit replays them into the renderer's store as matplotlib would have filled it
    -- or, when the store already holds different metrics for them, defers to matplotlib.

    Falls back to matplotlib's own code for anything outside the cached case: other renderers,
    wrapped text, TeX, strings with ``$`` (mathtext), a rebound font manager, ``Text``
    subclasses not defined by matplotlib.
    """
    import os

    import matplotlib
    import matplotlib.backends.backend_agg as bagg
    import matplotlib.text as mtext
    from matplotlib.transforms import Bbox

    text_cls = mtext.Text
    if getattr(text_cls._get_layout, "_verm_cached", False):
        return
    orig = text_cls._get_layout
    renderer_cls = bagg.RendererAgg
    rc = matplotlib.rcParams
    dget = dict.__getitem__
    env_keys = _FONT_RC + tuple(k for k in _RC_KEYS if k in rc)
    environ = os.environ
    cache = layout_cache
    fm0 = mtext.fontManager
    own_class: dict = {}  # Text subclass -> defined by matplotlib (user subclasses may override)

    def env_of(renderer):
        return (tuple(tuple(v) if isinstance(v, list) else v for v in (dget(rc, k) for k in env_keys)),
                len(fm0.ttflist), len(fm0.afmlist), environ.get("MPL_IGNORE_SYSTEM_FONTS"),
                getattr(renderer, "dpi", None))

    store_of = _install_metrics_store(env_of)

    def _get_layout(self, renderer):
        cls = type(self)
        mine = own_class.get(cls)
        if mine is None:
            mine = own_class[cls] = cls.__module__.split(".")[0] == "matplotlib"
        if (not mine or type(renderer) is not renderer_cls or self._wrap or self.get_usetex()
                or mtext.fontManager is not fm0 or bagg._fontManager is not fm0
                or _RECORD[0] is not None):
            return orig(self, renderer)
        text = self._text
        if not isinstance(text, str) or "$" in text:
            return orig(self, renderer)
        try:
            env = env_of(renderer)
            key = (
                text, tuple(self._fontproperties.__dict__.values()), env,
                self.get_figure(root=True).dpi, self._linespacing, self._multialignment,
                self._horizontalalignment, self._verticalalignment, self.get_rotation(),
                self.get_rotation_mode(),
            )
            hit = cache.get(key)
        except TypeError:  # something unhashable: not a case worth caching
            return orig(self, renderer)
        if hit is not None:
            points, info, box, metrics = hit
            store = store_of(renderer)
            for mkey, value in metrics:  # what matplotlib's metrics cache would hold now
                held = store.get(mkey)
                if held is not None and held[0] != value:
                    return orig(self, renderer)  # it holds older metrics: matplotlib's answer
            for mkey, value in metrics:
                _store_put(store, mkey, (value, env))
            return Bbox(points.copy()), list(info), box
        _RECORD[0] = (renderer, [])
        try:
            bbox, info, box = orig(self, renderer)
            used = _RECORD[0][1]
        finally:
            _RECORD[0] = None
        # Only layouts made from metrics measured in this environment are shared.
        if all(menv == env for _, _, menv in used):
            if len(cache) >= _MAX_ENTRIES:
                cache.clear()
            cache[key] = (bbox.get_points().copy(), tuple(info), box,
                          tuple((mkey, value) for mkey, value, _ in used))
        return bbox, info, box

    _get_layout._verm_cached = True  # type: ignore[attr-defined]
    _get_layout.__doc__ = orig.__doc__
    _get_layout.__wrapped__ = orig  # type: ignore[attr-defined]
    text_cls._get_layout = _get_layout


_RECORD: list = [None]  # (renderer, [(metrics key, value, env), ...]) while a layout is computed
_LRU_SIZE = 4096  # matplotlib's per-renderer lru_cache size


def _store_put(store, mkey, value) -> None:
    """Touch or insert like ``functools.lru_cache`` does on a call."""
    if mkey in store:
        store.move_to_end(mkey)
    else:
        store[mkey] = value
        if len(store) > _LRU_SIZE:
            store.popitem(last=False)


def _install_metrics_store(env_of):
    """Replace ``matplotlib.text._get_text_metrics_with_cache`` by an equivalent whose
    per-renderer store can be read and filled (same key: the text, the properties' hash --
    ``FontProperties.__eq__`` compares hashes --, ismath and dpi; same LRU size). Each value is
    kept with ``env_of(renderer)`` at the time it was measured. Returns the function giving a
    renderer's store."""
    import weakref
    from collections import OrderedDict

    import matplotlib.text as mtext

    if getattr(mtext._get_text_metrics_with_cache, "_verm_store", None) is not None:
        return mtext._get_text_metrics_with_cache._verm_store
    orig = mtext._get_text_metrics_with_cache
    stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def store_of(renderer):
        store = stores.get(renderer)
        if store is None:
            store = stores[renderer] = OrderedDict()
        return store

    def _get_text_metrics_with_cache(renderer, text, fontprop, ismath, dpi):
        store = store_of(renderer)
        mkey = (text, hash(fontprop), ismath, dpi)
        held = store.get(mkey)
        if held is None:
            held = (renderer.get_text_width_height_descent(text, fontprop.copy(), ismath),
                    env_of(renderer))
        _store_put(store, mkey, held)
        rec = _RECORD[0]
        if rec is not None and rec[0] is renderer:
            rec[1].append((mkey, held[0], held[1]))
        return held[0]

    _get_text_metrics_with_cache._verm_store = store_of  # type: ignore[attr-defined]
    _get_text_metrics_with_cache.__doc__ = orig.__doc__
    _get_text_metrics_with_cache.__wrapped__ = orig  # type: ignore[attr-defined]
    mtext._get_text_metrics_with_cache = _get_text_metrics_with_cache
    return store_of


def keep_layout_entries(predicate) -> int:
    """Drop cached layouts whose text fails ``predicate(text)``; returns how many are kept."""
    for key in [k for k in layout_cache if not predicate(k[0])]:
        del layout_cache[key]
    return len(layout_cache)



def install_font_lookup_cache() -> None:
    """Cache ``FontManager._find_fonts_by_props`` for the global font manager.

    The key holds the properties' whole state (what ``FontProperties.__hash__`` hashes), the
    arguments, the rcParams ``findfont`` keys its own cache on, ``MPL_IGNORE_SYSTEM_FONTS`` and
    the font lists' lengths (``addfont`` appends). Lookups where a family was not found are not
    cached, so matplotlib's warning is still logged on every such call.
    """
    import os

    import matplotlib
    import matplotlib.font_manager as fm_mod

    cls = fm_mod.FontManager
    if getattr(cls._find_fonts_by_props, "_verm_cached", False):
        return
    orig = cls._find_fonts_by_props
    fm0 = fm_mod.fontManager
    prop_cls = fm_mod.FontProperties
    rc = matplotlib.rcParams
    dget = dict.__getitem__
    environ = os.environ
    cache: dict = {}

    def _find_fonts_by_props(self, prop, fontext="ttf", directory=None,
                             fallback_to_default=True, rebuild_if_missing=True):
        if self is not fm0 or type(prop) is not prop_cls:
            return orig(self, prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        rcv = tuple(tuple(v) if isinstance(v, list) else v for v in (dget(rc, k) for k in _FONT_RC))
        key = (tuple(prop.__dict__.values()), fontext, directory, fallback_to_default,
               rebuild_if_missing, rcv, environ.get("MPL_IGNORE_SYSTEM_FONTS"),
               len(self.ttflist), len(self.afmlist))
        try:
            hit = cache.get(key)
        except TypeError:
            return orig(self, prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        if hit is not None:
            return list(hit)
        found = orig(self, prop, fontext, directory, fallback_to_default, rebuild_if_missing)
        if len(found) == len(prop.get_family()):
            if len(cache) >= _MAX_ENTRIES:
                cache.clear()
            cache[key] = tuple(found)
        return found

    _find_fonts_by_props._verm_cached = True  # type: ignore[attr-defined]
    _find_fonts_by_props.__doc__ = orig.__doc__
    _find_fonts_by_props.__wrapped__ = orig  # type: ignore[attr-defined]
    cls._find_fonts_by_props = _find_fonts_by_props
