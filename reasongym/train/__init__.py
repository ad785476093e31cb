"""Learning loops on top of the environments (``train -> everything``; nothing imports it).

* ``reasongym.train.sb3``: Stable-Baselines3 PPO/DQN on a discrete-mode id, with TensorBoard
  logs and a learning-curve PNG (``reasongym train sb3 ENV_ID``; needs ``reasongym[rl]``).

Heavy libraries (torch, stable_baselines3, matplotlib) are imported inside the functions that
use them.
"""
