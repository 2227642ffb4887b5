"""The SER stages of a :class:`~agser.run.Run` (chapters 6 and 7, ``agser train``).

1. :meth:`SERStages.ser_features`: the run's one encoder pass
   (:meth:`Run.encoded`), average-pooled over ``ser.frame_pool`` frames; with
   ``ser.finetune_top`` = N > 0 (HF encoder only) also the unpooled hidden state
   that enters the top N blocks;
2. :meth:`SERStages.ser_clusters`: the AG cluster model SER uses — the run's
   clustering with **no emotion filter**, fitted on every segment of the
   selected phones of *both* corpora whatever its label, so it reads no label
   of either corpus and serves both directions;
3. :meth:`SERStages.ser_corpora`: the two corpora as
   :class:`agser.ser.data.CorpusData`, with the AG cluster of every vowel
   segment;
4. :meth:`SERStages.ser_run`: one method, direction and seed (cached);
5. :meth:`SERStages.ser_table` and the chapter tables built from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError
from agser.store import code_fingerprint, fingerprint

__all__ = ["SERStages", "SER_CODE", "RESULT_COLUMNS", "DIRECTIONS"]

#: Modules whose code shapes SER's cached stages (training, anchors, clusters):
#: a change to them retrains instead of serving results of an older version.
SER_CODE = ("agser.ser", "agser.analysis", "agser.clustering", "agser.gestures.mouth")

#: Columns of ``tables/ser_results.csv`` and ``tables/ablation.csv``.
RESULT_COLUMNS = ("method", "direction", "seed", "uar", "neutral", "anger", "happy", "sad")
#: The cross-corpus directions, by corpus code.
DIRECTIONS = ("C->I", "I->C")


class SERStages:
    """SER stages; mixed into :class:`agser.run.Run` (see the module docstring)."""

    def ser_features(self, block_layer=None):
        """Encoder frame features of every utterance, pooled over ``ser.frame_pool`` frames.

        Parameters
        ----------
        block_layer : int, optional
            Also return this layer unpooled, the input of the lowest
            fine-tuned encoder block (``ser.finetune_top``).

        Returns
        -------
        dict
            ``features`` (utterance_id -> float32 (n_layers, n_frames, dim)),
            ``frame_rate`` (Hz, after pooling), ``frame_offset`` (s),
            ``n_layers``, ``dim``, ``failures`` (DataFrame ``utterance_id,
            stage, reason``, manifest order); with ``block_layer``,
            ``block_input`` (utterance_id -> float32 (n_frames_unpooled, dim)).
        """
        from agser.ser.data import pool_frames

        pool = self.params["ser"]["frame_pool"]
        enc = self.encoded()
        failed = {r.utterance_id: r for r in enc["failures"].itertuples(index=False)}
        feats, failures, block = {}, [], {}
        for uid in self.manifest()["utterance_id"]:
            if uid in failed:
                failures.append({"utterance_id": uid, "stage": failed[uid].stage, "reason": failed[uid].reason})
                continue
            f = enc["features"][uid]
            if f.shape[1] < pool:
                failures.append({"utterance_id": uid, "stage": "ser-features",
                                 "reason": f"{f.shape[1]} encoder frames, fewer than frame_pool={pool}"})
                continue
            feats[uid] = pool_frames(f, pool)
            if block_layer is not None:
                block[uid] = np.asarray(f[int(block_layer)], dtype=np.float32)
        extra = {} if block_layer is None else {"block_input": block}
        return {**extra, "features": feats, "frame_rate": enc["frame_rate"] / pool,
                "frame_offset": enc["frame_offset"], "n_layers": enc["n_layers"], "dim": enc["dim"],
                "failures": pd.DataFrame(failures, columns=["utterance_id", "stage", "reason"])}

    def ser_clusters(self):
        """The AG cluster model SER uses: the run's, fitted without reading any emotion label."""
        return self.clusters(emotions=None)

    def _ser_segments(self):
        """Vowel segments (of the clustering's phone set) of every emotion, with their AG cluster."""
        from agser.analysis.selection import select_segments
        from agser.gestures.mouth import as_series

        ag = self.ser_clusters()
        out = self.segments_dir()

        def compute():
            segments, frames = self.segments()
            mask = select_segments(segments, ag["params"]["phones"], emotions=None)
            finite = np.array([len(f) > 0 and bool(np.isfinite(f).all()) for f in frames])
            rows = np.flatnonzero(mask & finite)
            series = as_series([frames[i] for i in rows])
            table = segments.iloc[rows][["utterance_id", "corpus", "ipa", "start", "end"]] \
                .reset_index(drop=True)
            table["cluster"] = np.asarray(ag["model"].predict(series)).astype(int) + 1
            return {"segments": table, "gestures": [s.astype(np.float32) for s in series], "k": int(ag["k"])}

        inputs = (out / "segments.parquet", out / "segment_frames.npy")
        return self.store.cached("ser_segments", ag["params"], (*inputs, code_fingerprint(*SER_CODE)), compute)

    def ser_ready(self):
        """Whether the run has what SER training needs, and if not, why (reads the manifest only).

        Needs a corpus of code ``C`` and one of code ``I``
        (:data:`agser.corpora.CORPUS_CODES`), each with at least two speakers
        and labelled utterances of at least two of the four classes.

        Returns
        -------
        (bool, str)
        """
        from agser.corpora import CORPUS_CODES
        from agser.ser.data import label_index

        if self.params["data"]["source"] not in ("simulate", "manifest"):
            return False, f"data.source={self.params['data']['source']!r} is not a training corpus pair"
        manifest = self.manifest()
        for code in ("C", "I"):
            names = [n for n in manifest["corpus"].unique() if CORPUS_CODES.get(n, n) == code]
            if len(names) != 1:
                return False, f"the run has {len(names)} corpora of code {code!r} (needs one)"
            rows = manifest[manifest["corpus"] == names[0]]
            labels = label_index(rows["emotion"].fillna(""))
            if rows["speaker"].nunique() < 2 or len(set(labels[labels >= 0])) < 2:
                return False, (f"corpus {names[0]!r} has {rows['speaker'].nunique()} speakers and "
                               f"{len(set(labels[labels >= 0]))} of the four classes (needs 2 and 2)")
        return True, "ready"

    def ser_corpora(self):
        """The run's corpora as ``{corpus name: CorpusData}`` (memoised on the run).

        Utterances whose features failed are left out (listed in
        ``ser_features()["failures"]``).
        """
        return self._memoised("ser_corpora", self._ser_corpora)

    def _ser_corpora(self):
        from agser.ser.data import CorpusData, label_index, pad_features, segments_to_frames

        top = self.params["ser"]["finetune_top"]
        # hidden state n_blocks - top (layer index of the cached pass) enters the top blocks
        feats = self.ser_features(block_layer=-1 - top if top else None)
        seg = self._ser_segments()
        manifest = self.manifest()
        manifest = manifest[manifest["utterance_id"].isin(list(feats["features"]))]
        table, gestures = seg["segments"], seg["gestures"]
        out = {}
        for corpus, rows in manifest.groupby("corpus", sort=True):
            uids = rows["utterance_id"].to_numpy(dtype=str)
            f, lengths = pad_features([feats["features"][u] for u in uids])
            pos = {u: i for i, u in enumerate(uids)}
            st = table[table["utterance_id"].isin(pos)]
            utt = st["utterance_id"].map(pos).to_numpy(dtype=int)
            start, end = segments_to_frames(st["start"].to_numpy() - feats["frame_offset"],
                                            st["end"].to_numpy() - feats["frame_offset"],
                                            feats["frame_rate"], lengths[utt])
            segs = pd.DataFrame({"utt": utt, "start": start, "end": end,
                                 "ipa": st["ipa"].astype(str).to_numpy(),
                                 "cluster": st["cluster"].to_numpy(dtype=int),
                                 "gesture": np.arange(len(st))})
            out[corpus] = CorpusData(
                corpus=corpus, features=f, lengths=lengths,
                speaker=rows["speaker"].to_numpy(dtype=str), utterance_id=uids,
                labels=label_index(rows["emotion"].fillna("")), segments=segs,
                frame_rate=feats["frame_rate"], gestures=tuple(gestures[i] for i in st.index.to_numpy()),
                block_input=tuple(feats["block_input"][u] for u in uids) if top else ())
        if len(out) != 2:
            raise ParameterError(f"SER needs exactly two corpora, the run has {sorted(out)}")
        return out

    def corpora_digest(self):
        """Content digest of :meth:`ser_corpora` (features, labels, segments, clusters)."""
        return self._memoised("corpora_digest", lambda: fingerprint(
            [[c.corpus, c.features, c.lengths, c.labels, c.speaker, c.segments, c.frame_rate]
             for c in self.ser_corpora().values()]))

    def gesture_divergence(self, source, target):
        """Hard-AG's soft-DTW divergences between two corpora's gestures (cached)."""
        from agser.ser.methods import gesture_divergence_by_phone

        sdtw_gamma = float(self.params["ser"]["sdtw_gamma"])
        params = {"source": source.corpus, "target": target.corpus, "sdtw_gamma": sdtw_gamma}
        # keyed by the gestures and their phones themselves, not by the configuration
        # that produced them: a corpus whose files change in place is recomputed
        content = (source.segments["ipa"].to_numpy(dtype=str), target.segments["ipa"].to_numpy(dtype=str),
                   list(source.gestures), list(target.gestures))

        def compute():
            return gesture_divergence_by_phone(
                list(source.gestures), source.segments["ipa"].to_numpy(dtype=str),
                list(target.gestures), target.segments["ipa"].to_numpy(dtype=str), gamma=sdtw_gamma)

        return self.store.cached("ser_gesture_divergence", params, (*content, code_fingerprint(*SER_CODE)),
                                 compute)

    def ser_top_blocks(self):
        """The top ``ser.finetune_top`` blocks of the run's HF encoder, to fine-tune."""
        from agser.acoustic import make_encoder
        from agser.ser.finetune import TopBlocks

        return TopBlocks(make_encoder(self.encoder_params()), self.params["ser"]["finetune_top"],
                         self.params["ser"]["frame_pool"])

    def ser_run(self, method, direction, seed):
        """One method, direction and seed (cached); see :func:`agser.ser.train.run_experiment`.

        Parameters
        ----------
        method : str
            ``AG``, ``PA``, ``LA``, ``Hard-AG``, ``source-only`` or ``upper-bound``.
        direction : str
            ``"C->I"``, ``"I->C"``, or ``"C->C"`` / ``"I->I"`` for the upper bound.
        seed : int
        """
        from agser.ser.data import corpus_by_code
        from agser.ser.methods import CROSS_METHODS, check_method
        from agser.ser.train import SERConfig, parse_direction, run_experiment

        check_method(method)
        src_code, tgt_code = parse_direction(direction)
        if method == "upper-bound" and src_code != tgt_code:
            raise ParameterError(f"upper-bound runs within one corpus: direction={direction!r} "
                                 f"must be like 'C->C'")
        if method in CROSS_METHODS and src_code == tgt_code:
            raise ParameterError(f"{method} is cross-corpus: direction={direction!r} must be like 'C->I'")
        cfg = SERConfig.from_params(self.params["ser"])
        params = {"method": method, "direction": direction, "seed": int(seed), "ser": cfg.as_dict(),
                  "frame_pool": self.params["ser"]["frame_pool"], "data_digest": self.corpora_digest()}

        def compute():
            corpora = self.ser_corpora()
            source, target = corpus_by_code(corpora, src_code), corpus_by_code(corpora, tgt_code)
            div = self.gesture_divergence(source, target) if method == "Hard-AG" else None
            blocks = self.ser_top_blocks() if cfg.finetune_top else None
            return run_experiment(method, source, target, int(seed), cfg, divergence=div, blocks=blocks)

        return self.store.cached("ser_run", params, (code_fingerprint(*SER_CODE),), compute)

    def ser_table(self, runs):
        """Results table of many ``(method, direction, seed)`` runs: :data:`RESULT_COLUMNS` and ``fit_s``."""
        rows = []
        for method, direction, seed in runs:
            r = self.ser_run(method, direction, seed)
            rows.append({"method": method, "direction": direction, "seed": int(seed),
                         **{k: r[k] for k in RESULT_COLUMNS[3:]}, "fit_s": r["fit_s"]})
        return pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "fit_s"])

    def main_runs(self):
        """The ``(method, direction, seed)`` triples of chapter 6's table.

        Every cross-corpus method in both directions and the two upper bounds,
        for each seed of ``ser.seeds``.
        """
        from agser.ser.methods import CROSS_METHODS

        seeds = self.params["ser"]["seeds"]
        runs = [("upper-bound", f"{c}->{c}", s) for c in ("C", "I") for s in seeds]
        runs += [(m, d, s) for m in CROSS_METHODS for d in DIRECTIONS for s in seeds]
        return runs

    def ser_main(self):
        """Chapter 6's results table and the run dicts behind it (``(table, {triple: run})``)."""
        triples = self.main_runs()
        table = self.ser_table(triples)
        return table, {t: self.ser_run(*t) for t in triples}

    def gamma_sweep(self, methods=("AG",)):
        """UAR of ``methods`` over ``ser.gamma_sweep``, both directions, ``ser.sweep_seeds``.

        Returns
        -------
        pandas.DataFrame
            ``gamma, method, direction, seed, uar`` (gamma 0 is source-only
            training with the same code path).
        """
        s = self.params["ser"]
        rows = []
        for g in s["gamma_sweep"]:
            run = self.with_params(**{"ser.gamma": float(g)})
            for m in methods:
                for d in DIRECTIONS:
                    for seed in s["sweep_seeds"]:
                        r = run.ser_run(m, d, seed)
                        rows.append({"gamma": float(g), "method": m, "direction": d, "seed": seed,
                                     "uar": r["uar"]})
        return pd.DataFrame(rows, columns=["gamma", "method", "direction", "seed", "uar"])

    def shift_sweep(self, methods=("source-only", "AG"), shifts=None, k=None):
        """UAR against the simulator's domain-shift strength (``data.simulator.shift``).

        Each shift is a whole new pair of simulated corpora of
        ``ser.shift_utterances`` utterances each, extracted, clustered (with
        ``k`` fixed, no elbow search) and encoded; it uses ``ser.sweep_seeds``.

        Returns
        -------
        pandas.DataFrame
            ``shift, method, direction, seed, uar``.
        """
        if not self.is_simulated():
            raise ParameterError("the shift sweep needs data.source: simulate")
        s = self.params["ser"]
        shifts = s["shift_sweep"] if shifts is None else shifts
        rows = []
        for shift in shifts:
            changes = {"data.simulator.shift": float(shift), "data.utterances_per_corpus": s["shift_utterances"]}
            if k is not None:
                changes["cluster.k_range"] = [int(k), int(k)]
            run = self.with_params(**changes)
            for m in methods:
                for d in DIRECTIONS:
                    for seed in s["sweep_seeds"]:
                        r = run.ser_run(m, d, seed)
                        rows.append({"shift": float(shift), "method": m, "direction": d, "seed": seed,
                                     "uar": r["uar"]})
        return pd.DataFrame(rows, columns=["shift", "method", "direction", "seed", "uar"])
