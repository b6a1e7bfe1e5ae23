"""Brain states with HMM-GLMs and no, Gaussian or one-hot connectivity priors.

Li, Kim, Rodgers, Choi & Wu, "One-hot Generalized Linear Model for Switching Brain State
Discovery", ICLR 2024. Modules: ``messages`` (forward–backward, Viterbi, sampling),
``emissions`` (Poisson/Bernoulli/Gaussian GLMs with spike history), ``priors`` (none,
Gaussian, one-hot Concrete), ``model`` (:class:`HMMGLM`), ``metrics``, ``synthetic``
(the paper's generator), ``selection`` (number of states), ``benchmark`` (Table 1),
``real`` (calcium recordings → states, behaviour and anatomy checks).
"""

from neurodyn.states.messages import forward_backward, sample_states, viterbi
from neurodyn.states.model import HMMGLM, fit_hmmglm

__all__ = ["HMMGLM", "fit_hmmglm", "forward_backward", "viterbi", "sample_states"]
