"""HMARL: four specialist agents over ZeroMQ and the coordinator above them.

At each decision point the trading node asks the team (``team.AgentTeam``):
the decision's feature vector is published, each specialist
(``specialists``) answers with sell/hold/buy probabilities and a confidence,
and the coordinator (``coordinator``) forms a consensus of the fresh answers,
weighted by the trust it learned from each agent's realised rewards.  Wire
format in ``messages``, endpoints and CURVE keys in ``transport``, agent
processes in ``supervisor``, learned state folders in ``state``, what the
team did in ``scoreboard``, pre-training from event logs in ``pretrain``,
the ``[agents]`` settings in ``config``."""
