"""Which quantities an archive supports, and why not when it does not.

One function decides for the units that compute and for the merge that reports,
so a quantity is either computed everywhere or reported as null with its reason.
"""

from __future__ import annotations

#: Per-model quantities of the report, in report order.
MODEL_QUANTITIES = ("uncertainty", "uncertainty_pooled", "uncertainty_gaussian", "spread",
                    "perception", "perception_gaussian", "hellinger2", "kl", "perception_pooled",
                    "distortion")
#: Archive-level quantities.
ARCHIVE_QUANTITIES = ("inherent_uncertainty", "inherent_uncertainty_gaussian")


def archive_reasons(archive, settings, L: int, D: int) -> dict[str, str]:
    """Archive-level quantities that cannot be computed -> the reason."""
    out = {}
    k = settings.k
    R = archive.num_reference
    if not archive.has_reference:
        for q in ARCHIVE_QUANTITIES:
            out[q] = "archive has no reference dataset (draws of X|Y)"
        return out
    if R * L < k + 1:
        out["inherent_uncertainty"] = (f"reference has {R * L} vectors per measurement; the "
                                       f"k-NN entropy needs more than k={k}")
    if getattr(settings, "centre", False):
        if R < 2:
            for q in ARCHIVE_QUANTITIES:
                out[q] = (f"reference has R={R} draw per measurement; per-location centring "
                          f"needs at least 2 (or pass centre=False)")
        elif L * (R - 1) < D:
            out["inherent_uncertainty_gaussian"] = (
                f"the centred reference has L(R-1)={L * (R - 1)} degrees of freedom per "
                f"measurement in d={D}; a posterior covariance needs at least d")
        return out
    if R * L <= D:
        out["inherent_uncertainty_gaussian"] = (
            f"reference has {R * L} vectors per measurement in d={D}; a posterior covariance "
            f"needs more than d (R > d)")
    return out


def model_reasons(archive, settings, model: str, L: int, D: int) -> dict[str, str]:
    """Quantities of ``model`` that cannot be computed -> the reason."""
    out = {}
    k = settings.k
    M = archive.samples_per_model[model]
    R = archive.num_reference
    G = archive.num_measurements
    if M * L < k + 1:
        out["spread"] = (f"model has {M * L} vector(s) per measurement; the k-NN entropy of "
                         f"its spread needs more than k={k}")
    centre = getattr(settings, "centre", False)
    if centre and M < 2:
        out["spread"] = (f"model has M={M} sample per measurement; per-location centring "
                         f"needs at least 2 (a deterministic model has no spread)")
    if not archive.has_reference:
        for q in ("uncertainty", "perception", "perception_gaussian", "hellinger2", "kl"):
            out[q] = "archive has no reference dataset (draws of X|Y)"
    else:
        if min(M, R) * L < k + 1:
            out["uncertainty"] = (f"only {min(M, R) * L} paired error vector(s) per "
                                  f"measurement (min(M, R)); the k-NN entropy needs more "
                                  f"than k={k}")
        if R * L < k + 1 or M * L < k:
            why = (f"per measurement the reference has {R * L} and the model {M * L} "
                   f"vector(s); the k-NN divergence needs more than k={k} reference and at "
                   f"least k model vectors")
            for q in ("perception", "hellinger2", "kl"):
                out[q] = why
        if centre and R < 2:
            for q in ("perception", "hellinger2", "kl", "perception_gaussian"):
                out[q] = (f"reference has R={R} draw per measurement; centring by reference "
                          f"means needs at least 2 (or pass centre=False)")
        elif centre and min(M - 1, R - 1) * L < D:
            out["perception_gaussian"] = (f"per measurement the centred reference has "
                                          f"{L * (R - 1)} and the model {L * (M - 1)} degrees "
                                          f"of freedom in d={D}; Gaussian covariances need at "
                                          f"least d of each")
        elif not centre and min(M, R) * L <= D:
            out["perception_gaussian"] = (f"per measurement the reference has {R * L} and the "
                                          f"model {M * L} vector(s) in d={D}; Gaussian "
                                          f"moments need more than d of each")
    if not archive.has_truth:
        for q in ("uncertainty_pooled", "uncertainty_gaussian", "perception_pooled",
                  "distortion"):
            out[q] = "archive has no truth dataset"
    else:
        if (G - 1) * L < k:
            for q in ("uncertainty_pooled", "perception_pooled"):
                out[q] = (f"{G} measurement(s): pooled k-NN estimates take neighbours from "
                          f"other measurements and need at least k={k} of them")
        if G * M * L <= D:
            out["uncertainty_gaussian"] = (f"{G * M * L} error vectors in d={D}; the error "
                                           f"covariance needs more than d")
    return out
