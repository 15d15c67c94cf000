"""NumPy reference for scripts/hmc.py: HMC on a 4-D Gaussian with adaptive step size.

The momenta and the Metropolis uniforms are drawn inside the Theano graph; the reference takes
the momenta and the accept decisions the script returned, checks them (momenta ~ N(0, 1); a move
whose Hamiltonian drops is always accepted; acceptance matches min(1, exp(-dH)) in aggregate),
and recomputes the leapfrog trajectory and every shared-variable update exactly.
"""

import numpy as np

from .rbm import BernoulliTally


def run(got, burnin=10, n_samples=20, dim=4, batchsize=3, n_steps=8, initial_stepsize=0.1,
        target=0.9, inc=1.02, dec=0.98, smin=0.001, smax=0.25, slowness=0.9):
    rng = np.random.RandomState(123)
    mu = rng.rand(dim) * 10
    cov = rng.rand(dim, dim)
    cov = (cov + cov.T) / 2.
    cov[np.arange(dim), np.arange(dim)] = 1.0
    cov_inv = np.linalg.inv(cov)

    def energy(x):
        return 0.5 * ((x - mu).dot(cov_inv) * (x - mu)).sum(axis=1)

    def grad(x):
        d = x - mu
        return 0.5 * (d.dot(cov_inv) + d.dot(cov_inv.T))

    pos = rng.randn(batchsize, dim)
    step, avg = initial_stepsize, target
    tally = BernoulliTally()
    vels = []
    history = []
    for r in range(burnin + n_samples):
        rec = got['epochs'][r]
        v0 = np.asarray(rec['initial_vel'])
        accept = np.asarray(rec['accept'], dtype=bool)
        vels.append(v0)
        vel = v0 - 0.5 * step * grad(pos)
        new = pos + step * vel
        for _ in range(n_steps - 1):
            vel = vel - step * grad(new)
            new = new + step * vel
        vel = vel - 0.5 * step * grad(new)
        h_prev = energy(pos) + 0.5 * (v0 ** 2).sum(axis=1)
        h_next = energy(new) + 0.5 * (vel ** 2).sum(axis=1)
        p_accept = np.minimum(1.0, np.exp(h_prev - h_next))
        tally.add(accept.astype(float), p_accept)
        pos = np.where(accept[:, None], new, pos)
        step = float(np.clip(step * inc if avg > target else step * dec, smin, smax))
        avg = slowness * avg + (1.0 - slowness) * accept.mean()
        history.append({'epoch': r, 'positions': pos.tolist(), 'accept': rec['accept'],
                        'initial_vel': rec['initial_vel'], 'stepsize': step,
                        'avg_acceptance_rate': float(avg)})
    tally.check()
    v = np.concatenate(vels).ravel()
    assert abs(v.mean()) < 5 / np.sqrt(v.size) and abs(v.var() - 1) < 5 * np.sqrt(2 / v.size), \
        'initial momenta are not standard normal'
    samples = np.asarray([h['positions'] for h in history[burnin:]])
    return {'epochs': history, 'mean': samples.reshape(-1, dim).mean(axis=0).tolist()}
