package web

func (s *Server) insightRoutes() []*Route { return nil }
