"""The SER stages of a :class:`~agser.run.Run` (chapters 6 and 7, ``agser train``).

1. :meth:`SERStages.ser_clusters`: the AG cluster model SER uses — the run's
   clustering with **no emotion filter**, fitted on every segment of the
   selected phones of *both* corpora whatever its label, so it reads no label
   of either corpus and serves both directions;
2. :meth:`SERStages.ser_corpora`: the two corpora as
   :class:`agser.ser.data.CorpusData`: the encoder pass's per-utterance
   features (memory-mapped from the store, read batch by batch), speakers,
   labels, and every vowel segment with its AG cluster and, on simulated
   corpora, its true articulatory class (:mod:`agser.analysis.oracle`);
3. :meth:`SERStages.ser_run`: one method, direction and seed
   (:func:`agser.ser.protocol.run_experiment`, cached);
4. :meth:`SERStages.ser_results`: every method, direction and seed of every
   condition, trained side by side in local processes, as one table;
   :meth:`SERStages.ser_contrasts`: the paired differences with their CIs;
5. the controls (``controls.conditions``): each condition is the run with
   other simulator settings (:meth:`SERStages.condition_run`); the channel
   damage of ``controls.calibrate`` is chosen from source-only and the
   upper bound alone (:meth:`SERStages.calibration`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agser.errors import ParameterError
from agser.store import code_fingerprint, fingerprint

__all__ = ["SERStages", "SER_CODE", "RESULT_COLUMNS", "DIRECTIONS", "damage_knobs"]

#: Modules whose code shapes SER's cached stages (training, anchors, clusters): a change to
#: them retrains instead of serving results of an older version. The reporting modules
#: (agser.ser.report, agser.ser.stats, agser.analysis.glance, ...) are left out on purpose:
#: a change of wording must not retrain every run.
SER_CODE = ("agser.ser.data", "agser.ser.estimator", "agser.ser.finetune", "agser.ser.losses", "agser.ser.methods",
            "agser.ser.metrics", "agser.ser.model", "agser.ser.protocol", "agser.ser.splits",
            "agser.analysis.overlap", "agser.analysis.oracle", "agser.analysis.selection", "agser.clustering",
            "agser.gestures", "agser.normalize")

#: Columns of ``tables/ser_results.csv``.
RESULT_COLUMNS = ("condition", "method", "direction", "seed", "uar", "neutral", "anger", "happy", "sad",
                  "n_train")
#: The cross-corpus directions, by corpus code.
DIRECTIONS = ("C->I", "I->C")


def damage_knobs(strength, corpus="sim-improv"):
    """Simulator knobs of a channel damage of ``strength`` on one corpus (the positive control).

    Damage that per-speaker normalisation cannot remove: additive noise (the
    SNR falls from the clean 35 dB by 12 dB per unit), reverberation (0.25 s of
    RT60 per unit) and a band limit (8 kHz less 2.3 kHz per unit, at least
    1.5 kHz). At 2: 11 dB SNR, 0.5 s RT60, a 3.4 kHz (telephone) band.

    Examples
    --------
    >>> damage_knobs(2.0)["band_hz"]
    {'sim-improv': 3400.0}
    """
    s = float(strength)
    if s < 0:
        raise ParameterError(f"channel damage {strength!r} must be >= 0")
    return {"snr_db": {corpus: 35.0 - 12.0 * s}, "rt60_s": {corpus: 0.25 * s},
            "band_hz": {corpus: max(8000.0 - 2300.0 * s, 1500.0)}}


_WORKER_RUN = None


def _worker_init(state):
    """A training process's own Run (rebuilt from the parent's class, parameters and work folder)."""
    global _WORKER_RUN

    cls, params, work_dir, name, root = state
    _WORKER_RUN = cls(params, work_dir=work_dir, name=name, root=root)


def _worker_train(triple):
    method, direction, seed = triple
    _WORKER_RUN.ser_run(method, direction, seed)
    return triple


class SERStages:
    """SER stages; mixed into :class:`agser.run.Run` (see the module docstring)."""

    # -- the two corpora -----------------------------------------------------
    def ser_clusters(self):
        """The AG cluster model SER uses: the run's, fitted without reading any emotion label."""
        return self.clusters(emotions=None)

    def _ser_segments(self):
        """Vowel segments (of the clustering's phone set) of every emotion, with AG cluster and gesture."""
        from agser.analysis.selection import select_segments
        from agser.gestures.mouth import as_series

        ag = self.ser_clusters()
        out = self.segments_dir()

        def compute():
            segments, _ = self.segments()
            frames = self.gesture_frames()
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

    def oracle(self):
        """The simulator's true articulatory class of each SER segment (None on real corpora).

        k-means (k = the AG model's) on the true lip articulation of every
        segment of both corpora (:mod:`agser.analysis.oracle`); reads only the
        simulator's articulation files and the segments' spans.
        """
        return self._memoised("oracle", self._oracle)

    def _oracle(self):
        from agser.analysis.oracle import oracle_classes, span_articulation

        manifest = self.manifest()
        if "articulation_path" not in manifest.columns or not self.is_simulated():
            return None
        seg = self._ser_segments()
        paths = dict(zip(manifest["utterance_id"], manifest["articulation_path"]))

        def compute():
            from agser.corpora.simulator import read_articulation

            table = seg["segments"]
            feats = np.zeros((len(table), 12))
            for uid, idx in table.groupby("utterance_id", sort=False).indices.items():
                track = read_articulation(paths[uid])
                for i in idx:
                    feats[i] = span_articulation(track, table["start"].iat[i], table["end"].iat[i])
            return oracle_classes(feats, seg["k"], self.params["cluster"]["seed"])

        # the simulated corpora's folder name is their store key (parameters and simulator code)
        return self.store.cached("oracle_classes", {"k": seg["k"], "seed": self.params["cluster"]["seed"]},
                                 (seg["segments"], str(self.manifest_path()), code_fingerprint(*SER_CODE)),
                                 compute)

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

        if self.params["data"]["source"] not in ("simulate", "manifest", "standin"):
            return False, f"data.source={self.params['data']['source']!r} is not a training corpus pair"
        manifest = self.manifest()
        for code in ("C", "I"):
            names = [n for n in manifest["corpus"].unique() if CORPUS_CODES.get(n, n) == code]
            if len(names) != 1:
                return False, f"the run has {len(names)} corpora of code {code!r} (needs one)"
            rows = manifest[manifest["corpus"] == names[0]]
            labels = label_index(rows["emotion"].fillna(""))
            if rows["speaker"].nunique() < 4 or len(set(labels[labels >= 0])) < 2:
                return False, (f"corpus {names[0]!r} has {rows['speaker'].nunique()} speakers and "
                               f"{len(set(labels[labels >= 0]))} of the four classes (needs 4 and 2)")
        return True, "ready"

    def ser_corpora(self):
        """The run's corpora as ``{corpus name: CorpusData}`` (memoised on the run).

        Utterances whose features failed, or hold fewer frames than
        ``ser.frame_pool``, are left out (:meth:`ser_failures`).
        """
        return self._memoised("ser_corpora", self._ser_corpora)

    def ser_failures(self):
        """``utterance_id, stage, reason`` of the utterances SER leaves out."""
        self.ser_corpora()
        return self._memo["ser_failures"]

    def _ser_corpora(self):
        from agser.ser.data import CorpusData, LayerView, label_index, segments_to_frames

        pool = self.params["ser"]["frame_pool"]
        top = self.params["ser"]["finetune_top"]
        enc = self.encoded()
        failures = [enc["failures"]]
        lengths = {}
        short = []
        for uid in enc["features"]:
            frames = enc["features"].shape(uid)[1]
            n = frames // pool
            if n < 1:
                short.append({"utterance_id": uid, "stage": "ser-features",
                              "reason": f"{frames} encoder frames, fewer than frame_pool={pool}"})
            else:
                lengths[uid] = n
        failures.append(pd.DataFrame(short, columns=["utterance_id", "stage", "reason"]))
        self._memo["ser_failures"] = pd.concat(failures, ignore_index=True)
        frame_rate = enc["frame_rate"] / pool
        seg = self._ser_segments()
        oracle = self.oracle()
        table = seg["segments"].assign(gesture=np.arange(len(seg["segments"])))
        if oracle is not None:
            table["oracle"] = oracle
        manifest = self.manifest()
        manifest = manifest[manifest["utterance_id"].isin(list(lengths))]
        block = LayerView(enc["features"], -1 - top) if top else None
        out = {}
        for corpus, rows in manifest.groupby("corpus", sort=True):
            uids = rows["utterance_id"].to_numpy(dtype=str)
            n = np.array([lengths[u] for u in uids], dtype=int)
            pos = {u: i for i, u in enumerate(uids)}
            st = table[table["utterance_id"].isin(pos)]
            utt = st["utterance_id"].map(pos).to_numpy(dtype=int)
            start, end = segments_to_frames(st["start"].to_numpy() - enc["frame_offset"],
                                            st["end"].to_numpy() - enc["frame_offset"], frame_rate, n[utt])
            segs = pd.DataFrame({"utt": utt, "start": start, "end": end, "ipa": st["ipa"].astype(str).to_numpy(),
                                 "cluster": st["cluster"].to_numpy(dtype=int),
                                 "gesture": st["gesture"].to_numpy(dtype=int)})
            if oracle is not None:
                segs["oracle"] = st["oracle"].to_numpy(dtype=int)
            out[corpus] = CorpusData(
                corpus=corpus, features=enc["features"], utterance_id=uids,
                speaker=rows["speaker"].to_numpy(dtype=str), lengths=n,
                labels=label_index(rows["emotion"].fillna("")), segments=segs, frame_rate=frame_rate,
                pool=pool, gestures=tuple(seg["gestures"]), block_input=block)
        if len(out) != 2:
            raise ParameterError(f"SER needs exactly two corpora, the run has {sorted(out)}")
        return out

    def corpora_digest(self):
        """Content digest of what SER training reads (features' keys, labels, segments, clusters)."""
        def compute():
            enc = self.encoded()
            return fingerprint([enc["digest"], self.params["ser"]["frame_pool"],
                                [[c.corpus, c.utterance_id, c.lengths, c.labels, c.speaker, c.segments]
                                 for c in self.ser_corpora().values()]])

        return self._memoised("corpora_digest", compute)

    def ser_top_blocks(self):
        """The top ``ser.finetune_top`` blocks of the run's HF encoder, to fine-tune."""
        from agser.acoustic import make_encoder
        from agser.ser.finetune import TopBlocks

        return TopBlocks(make_encoder(self.encoder_params()), self.params["ser"]["finetune_top"],
                         self.params["ser"]["frame_pool"])

    # -- one run -------------------------------------------------------------
    def _run_params(self, method, direction, seed):
        from agser.ser.methods import check_method

        check_method(method)
        from agser.ser.protocol import parse_direction

        src, tgt = parse_direction(direction)
        if method == "upper-bound" and src != tgt:
            raise ParameterError(f"upper-bound runs within one corpus: direction={direction!r} must be like 'C->C'")
        if method != "upper-bound" and src == tgt:
            raise ParameterError(f"{method} is cross-corpus: direction={direction!r} must be like 'C->I'")
        if method == "AG-oracle" and self.oracle() is None:
            raise ParameterError("AG-oracle needs the simulator's articulation files (simulated corpora only)")
        ser = {k: v for k, v in self.params["ser"].items()
               if k not in ("seeds", "sweep_seeds", "gamma_sweep", "parallel_runs", "num_workers")}
        return {"method": method, "direction": direction, "seed": int(seed), "ser": ser,
                "data_digest": self.corpora_digest()}

    def ser_run(self, method, direction, seed):
        """One method, direction and seed (cached); see :func:`agser.ser.protocol.run_experiment`.

        Parameters
        ----------
        method : str
            One of :data:`agser.ser.methods.METHODS`.
        direction : str
            ``"C->I"``, ``"I->C"``, or ``"C->C"`` / ``"I->I"`` for the upper bound.
        seed : int
        """
        from agser.ser.data import corpus_by_code
        from agser.ser.protocol import parse_direction, run_experiment

        params = self._run_params(method, direction, seed)

        def compute():
            corpora = self.ser_corpora()
            src, tgt = parse_direction(direction)
            source, target = corpus_by_code(corpora, src), corpus_by_code(corpora, tgt)
            blocks = self.ser_top_blocks() if self.params["ser"]["finetune_top"] else None
            return run_experiment(method, source, target, int(seed), self.params["ser"], blocks=blocks)

        return self.store.cached("ser_run", params, (code_fingerprint(*SER_CODE),), compute)

    def _has_run(self, triple):
        return self.store.has(self.store.key("ser_run", self._run_params(*triple), (code_fingerprint(*SER_CODE),)))

    def train_runs(self, triples):
        """Compute the runs not yet in the store, ``ser.parallel_runs`` at a time (CPU)."""
        from agser.ser.estimator import resolve_device

        todo = [t for t in triples if not self._has_run(t)]
        n = int(self.params["ser"]["parallel_runs"])
        if not todo:
            return
        if n <= 1 or len(todo) == 1 or resolve_device(self.params["ser"]["device"]).startswith("cuda"):
            for t in todo:
                self.ser_run(*t)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # the workers inherit nothing but the parameters: a fresh process builds its Run and
        # reads the (cached) corpora from the store ("spawn": torch's threads do not survive fork)
        self.ser_corpora()
        state = (type(self), self.params, self.work_dir, self.name, self.root)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(n, len(todo)), mp_context=ctx, initializer=_worker_init,
                                 initargs=(state,)) as pool:
            list(pool.map(_worker_train, todo))

    # -- tables --------------------------------------------------------------
    def methods(self):
        """The methods of the run's tables: every method, AG-oracle only on simulated corpora."""
        from agser.ser.methods import METHODS

        return [m for m in METHODS if m != "AG-oracle" or self.oracle() is not None]

    def main_runs(self):
        """The ``(method, direction, seed)`` triples of the run's table (every method and seed)."""
        seeds = self.params["ser"]["seeds"]
        runs = [("upper-bound", f"{c}->{c}", s) for c in ("C", "I") for s in seeds]
        runs += [(m, d, s) for m in self.methods() if m != "upper-bound" for d in DIRECTIONS for s in seeds]
        return runs

    def ser_table(self, triples, condition="default"):
        """Results of ``(method, direction, seed)`` triples: :data:`RESULT_COLUMNS`, ``fit_s``, ``epochs``."""
        self.train_runs(triples)
        rows = []
        for method, direction, seed in triples:
            r = self.ser_run(method, direction, seed)
            rows.append({"condition": condition, "method": method, "direction": direction, "seed": int(seed),
                         **{k: r[k] for k in RESULT_COLUMNS[4:]}, "fit_s": r["fit_s"],
                         "epochs": r["history"]["best_epoch"]})
        return pd.DataFrame(rows, columns=[*RESULT_COLUMNS, "fit_s", "epochs"])

    # -- conditions and calibration ------------------------------------------
    def conditions(self):
        """Names of the run's conditions: ``controls.conditions``, or ``["default"]``."""
        return list(self.params["controls"]["conditions"]) or ["default"]

    def condition_run(self, name):
        """The run of one condition: this run with the condition's simulator settings.

        The calibrated condition (``controls.calibrate``) also gets the
        channel damage :meth:`calibration` chose.
        """
        if name == "default" and not self.params["controls"]["conditions"]:
            return self
        cond = self.params["controls"]["conditions"]
        if name not in cond:
            raise ParameterError(f"condition {name!r} is not one of controls.conditions ({', '.join(cond)})")
        if not self.is_simulated():
            raise ParameterError("controls.conditions need data.source: simulate")
        knobs = {**self.params["data"]["simulator"], **cond[name]}
        if self.params["controls"]["calibrate"] and name in self.params["controls"]["damaged"]:
            knobs.update(damage_knobs(self.calibration()["chosen"]))
        return self.with_params(**{"data.simulator": knobs, "controls.conditions": {}, "controls.calibrate": None,
                                   "controls.damaged": []})

    def calibration(self):
        """The channel damage of the calibrated condition, chosen from source-only and upper bound alone.

        Source-only and the upper bound are trained on the calibration seeds
        (never the evaluation seeds), first on the condition's corpora without
        damage, then with each strength of ``controls.damage_grid`` in order
        (:func:`damage_knobs`). Speakers and sentences already differ between
        the corpora without damage, so the criterion is on what the damage
        *adds*: the first strength at which source-only's loss against the
        upper bound (mean over directions and seeds) exceeds the undamaged
        loss by at least ``controls.min_gap`` points is chosen. No anchoring
        method is trained, so the strength cannot follow AG's result.

        Returns
        -------
        dict
            ``table`` (DataFrame ``damage, direction, seed, source_only,
            upper_bound, gap``; damage 0 is the undamaged corpora),
            ``baseline_gap``, ``chosen`` (the strength; the largest tried
            when none adds ``min_gap``), ``added_gap`` (of the chosen), ``reached``.
        """
        return self._memoised("calibration", self._calibration)

    def _calibration(self):
        c = self.params["controls"]
        base = {**self.params["data"]["simulator"], **c["conditions"][c["calibrate"]]}
        rows = []

        def gaps(strength):
            knobs = {**base, **damage_knobs(strength)} if strength else base
            run = self.with_params(**{"data.simulator": knobs, "controls.conditions": {},
                                      "controls.calibrate": None, "controls.damaged": []})
            pairs = [(("source-only", d, s), ("upper-bound", f"{d[-1]}->{d[-1]}", s))
                     for s in c["calibration_seeds"] for d in DIRECTIONS]
            run.train_runs([t for pair in pairs for t in pair])
            out = []
            for so, ub in pairs:
                a, b = run.ser_run(*so)["uar"], run.ser_run(*ub)["uar"]
                rows.append({"damage": strength, "direction": so[1], "seed": so[2], "source_only": a,
                             "upper_bound": b, "gap": b - a})
                out.append(b - a)
            return float(np.mean(out))

        baseline = gaps(0.0)
        chosen, added, reached = None, float("nan"), False
        for strength in c["damage_grid"]:
            chosen, added = strength, gaps(strength) - baseline
            if added >= c["min_gap"]:
                reached = True
                break
        return {"table": pd.DataFrame(rows), "baseline_gap": baseline, "chosen": chosen, "added_gap": added,
                "reached": reached}

    def ser_results(self):
        """Every method, direction and seed of every condition: the run's ``ser_results`` table."""
        def compute():
            tables = []
            for name in self.conditions():
                run = self.condition_run(name)
                tables.append(run.ser_table(run.main_runs(), condition=name))
            return pd.concat(tables, ignore_index=True)

        return self._memoised("ser_results", compute)

    def ser_contrasts(self):
        """Paired differences of UAR with 95 % CIs, per condition (:func:`agser.ser.stats.contrasts`)."""
        from agser.ser.stats import contrasts

        results = self.ser_results()
        return pd.concat([contrasts(results[results["condition"] == c], condition=c) for c in self.conditions()],
                         ignore_index=True)

    def ser_runs(self, condition="default"):
        """``(method, direction, seed) -> run dict`` of one condition (predictions, histories)."""
        run = self.condition_run(condition)
        return {t: run.ser_run(*t) for t in run.main_runs()}

    def gamma_sweep(self):
        """AG's UAR over ``ser.gamma_sweep`` (and ``ser.gamma``), both directions, ``ser.sweep_seeds``.

        Shown after the main table; the table's gamma was fixed before any
        result, and this sweep is never used to choose it.
        """
        s = self.params["ser"]
        rows = []
        for g in sorted(set([*s["gamma_sweep"], s["gamma"]])):
            run = self.with_params(**{"ser.gamma": float(g)})
            triples = [("AG", d, seed) for d in DIRECTIONS for seed in s["sweep_seeds"]]
            run.train_runs(triples)
            for _, d, seed in triples:
                rows.append({"gamma": float(g), "direction": d, "seed": seed, "uar": run.ser_run("AG", d, seed)["uar"]})
        return pd.DataFrame(rows, columns=["gamma", "direction", "seed", "uar"])
