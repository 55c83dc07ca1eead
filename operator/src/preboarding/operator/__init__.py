"""The Preboarding operator: reconciles OnboardingVideos into one Kubernetes Job per stage."""
