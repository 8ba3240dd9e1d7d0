"""Only what two services share: settings, SQL access, the relay, the log follower."""
